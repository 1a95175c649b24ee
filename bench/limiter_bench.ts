// FluxLimiter decision throughput, side by side in one run with rate-limiter-flexible's memory
// limiter, the `limiter` package's token bucket, and a minimal hand-written GCRA loop over a Map
// on `Date.now()` (the practical floor: the least work any exact keyed GCRA can do, on the
// cheapest clock). `bench/limiter_report.ts` measures the same rows with interleaved rounds on
// CPU time and prints the ratios; the summary in bench/README.md comes from it.
//
// Every limiter is configured so that every decision is an admission: that is the common path and
// the only one all four take the same way (rate-limiter-flexible rejects its promise on a denial).
import { RateLimiterMemory } from "rate-limiter-flexible";
import { TokenBucket } from "limiter";
import { FluxLimiter } from "../mod.ts";
import { monotonicDateClock } from "../src/limiter/mod.ts";

const OPS = 1_000; // decisions per bench iteration
const KEYS = 100_000;
const RATE = 1e9; // per second: never the bottleneck
const BURST = 1_000_000;
const keys = Array.from({ length: KEYS }, (_, i) => `client-${i}`);

/** The floor: GCRA over a Map, no validation, no eviction, a boolean answer. */
function floorLimiter(clock: () => number): (key: string) => boolean {
  const tats = new Map<string, number>();
  const interval = 1000 / RATE;
  const tolerance = BURST * interval;
  return (key) => {
    const now = clock();
    const tat = Math.max(tats.get(key) ?? now, now) + interval;
    if (tat - now > tolerance) return false;
    tats.set(key, tat);
    return true;
  };
}

function tokenBuckets(): (key: string) => boolean {
  const buckets = new Map<string, TokenBucket>();
  return (key) => {
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket({ bucketSize: BURST, tokensPerInterval: RATE, interval: 1000 });
      bucket.content = BURST;
      buckets.set(key, bucket);
    }
    return bucket.tryRemoveTokens(1);
  };
}

let sink = 0;
for (
  const [scenario, pick] of [
    ["hot key", (_i: number) => "hot"],
    ["100 000 keys", (i: number) => keys[i % KEYS]],
  ] as const
) {
  const group = scenario;
  let cursor = 0;
  const next = () => pick(cursor++);

  const flux = new FluxLimiter({ rate: RATE, burst: BURST, maxKeys: 200_000 });
  Deno.bench(`fluxpool FluxLimiter (${scenario})`, { group }, () => {
    for (let i = 0; i < OPS; i++) if (flux.check(next()).allowed) sink++;
  });

  // The same limiter on the cheaper monotonic clock: in Deno 2.9, performance.now() costs about
  // 90 ns and Date.now() about 50 ns, most of a hot-key decision either way.
  const fluxMono = new FluxLimiter({
    rate: RATE,
    burst: BURST,
    maxKeys: 200_000,
    clock: monotonicDateClock(),
  });
  Deno.bench(`fluxpool FluxLimiter, monotonicDateClock (${scenario})`, { group }, () => {
    for (let i = 0; i < OPS; i++) if (fluxMono.check(next()).allowed) sink++;
  });

  const floor = floorLimiter(() => Date.now());
  Deno.bench(`hand-written GCRA Map floor on Date.now() (${scenario})`, {
    group,
    baseline: true,
  }, () => {
    for (let i = 0; i < OPS; i++) if (floor(next())) sink++;
  });

  const floorPerf = floorLimiter(() => performance.now());
  Deno.bench(`the same floor on performance.now() (${scenario})`, { group }, () => {
    for (let i = 0; i < OPS; i++) if (floorPerf(next())) sink++;
  });

  const buckets = tokenBuckets();
  Deno.bench(`limiter TokenBucket (${scenario})`, { group }, () => {
    for (let i = 0; i < OPS; i++) if (buckets(next())) sink++;
  });

  // Far more points than any run consumes: a rejection would end the bench, not measure it.
  const rlf = new RateLimiterMemory({ points: 1e12, duration: 1 });
  Deno.bench(`rate-limiter-flexible RateLimiterMemory (${scenario})`, { group }, async () => {
    for (let i = 0; i < OPS; i++) {
      await rlf.consume(next(), 1);
      sink++;
    }
  });
}

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
