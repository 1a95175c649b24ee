// Ending an ioredis client so that no timer of its own outlives the test (Deno's op sanitizer).
import type { Redis } from "ioredis";

/**
 * Disconnects `redis` and waits for its "end". ioredis arms a timer on `disconnect()` that only
 * its connection's "close" clears: a client that has already ended (its connection refused, no
 * retry) would never clear it, so it is not disconnected again.
 */
export async function disconnect(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  const ended = new Promise((resolve) => redis.once("end", resolve));
  redis.disconnect();
  await ended;
}
