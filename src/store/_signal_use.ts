// Stores whose decide() reads its signal only on entry for some algorithms: the native paths of
// RedisStore and PostgresStore send one command, which nothing can call back once it is sent.
// For those the limiter passes the caller's own signal on instead of an AbortController of its
// own per decision (which the store would never look at again); the limiter's time limit still
// answers the caller when the store is late. A store registers itself; nothing else is assumed.

import { StoreCapability } from "./_capability.ts";

/** Stores whose decide() reads its signal only on entry, for the algorithms each registered. */
export const READS_SIGNAL_ON_ENTRY: StoreCapability = new StoreCapability();
