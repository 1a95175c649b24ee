// Eviction under a flood of new keys: ns per new key once a structure holds `maxKeys` keys, at
// 1 000 and at 100 000 keys, for each of the five keyed maps with a memory bound. Eviction is
// meant to be O(1) amortized, so the two sizes should cost about the same per key.
import { FluxLimiter } from "../mod.ts";
import { MemoryStore } from "../src/store/mod.ts";
import { QuotaManager } from "../src/limiter/mod.ts";
import { ServerPacer } from "../src/http/headers.ts";
import { gcra } from "../src/limiter/gcra.ts";
import { BlockCache } from "../src/limiter/_block_cache.ts";

const SIZES = [1_000, 100_000];
// New keys per bench iteration, so that the timer's own cost and the odd garbage collection of
// a 100 000-key heap spread over many keys: divide the time per iteration by it.
const BATCH = 100;

// Each structure is filled to its bound before the bench starts; every iteration then brings
// BATCH keys it has never seen, so each of them evicts one.
function flood(name: string, size: number, make: () => (key: string) => unknown): void {
  let insert: ((key: string) => unknown) | undefined;
  let next = 0;
  const setup = () => {
    if (insert !== undefined) return;
    insert = make();
    for (; next < size; next++) insert(`key-${next}`);
  };
  Deno.bench({
    name: `${name}, ${BATCH} new keys at ${size} keys`,
    group: name,
    baseline: size === SIZES[0],
    fn: async (b) => {
      setup(); // the first iteration fills the structure, outside the timed part
      const keys = Array.from({ length: BATCH }, () => `key-${next++}`);
      b.start();
      for (const key of keys) {
        const result = insert!(key);
        if (result instanceof Promise) await result;
      }
      b.end();
    },
  });
}

for (const size of SIZES) {
  flood("FluxLimiter.check", size, () => {
    const limiter = new FluxLimiter({ rate: 10, burst: 5, maxKeys: size });
    return (key) => limiter.check(key);
  });
  flood("ServerPacer.tryAcquire", size, () => {
    const pacer = new ServerPacer({ maxKeys: size });
    return (key) => pacer.tryAcquire(key)?.();
  });
  flood("QuotaManager.check", size, () => {
    const quotas = new QuotaManager({
      quotas: [{ name: "daily", limit: 100, period: "day" }],
      maxKeys: size,
    });
    return (key) => quotas.check(key);
  });
  flood("BlockCache.block", size, () => {
    const cache = new BlockCache(size);
    return (key) => cache.block(key, 1, 1, Number.MAX_SAFE_INTEGER);
  });
  flood("MemoryStore.decide", size, () => {
    const store = new MemoryStore({ maxKeys: size });
    const algorithm = gcra({ rate: 10, burst: 5 });
    return (key) => store.decide(key, algorithm, 1);
  });
}
