// Decision throughput of each algorithm on one hot key through `new FluxLimiter({ algorithm })`,
// with gcra as the baseline. All in one process, so FluxLimiter's call sites see every algorithm
// (V8's inlining then depends on the order); `bench/limiter_report.ts` runs each algorithm in a
// process of its own, as an application with one kind of limiter, and its ratios are the summary
// in bench/README.md. Two cases:
// - "at its rate": a ManualClock moves 10 ms per decision at 100/s, so every decision admits
//   (the sliding log then holds its full 100 entries, the worst case for its copy);
// - "over its limit": the system clock and a tight loop, so after the first 100 nearly every
//   decision is a denial (a hot abusive key).
import { FluxLimiter } from "../mod.ts";
import type { Algorithm } from "../src/limiter/mod.ts";
import {
  fixedWindow,
  gcra,
  leakyBucket,
  multiLimit,
  slidingWindow,
  tokenBucket,
} from "../src/limiter/mod.ts";
import { ManualClock } from "../src/testing/mod.ts";

const OPS = 1_000; // decisions per bench iteration
const algorithms: [string, () => Algorithm<unknown>][] = [
  ["gcra", () => gcra({ rate: 100, burst: 100 }) as Algorithm<unknown>],
  ["tokenBucket", () => tokenBucket({ rate: 100, burst: 100 }) as Algorithm<unknown>],
  ["leakyBucket", () => leakyBucket({ rate: 100, burst: 100 }) as Algorithm<unknown>],
  ["slidingWindow", () => slidingWindow({ limit: 100, windowMs: 1000 }) as Algorithm<unknown>],
  ["fixedWindow", () => fixedWindow({ limit: 100, windowMs: 1000 }) as Algorithm<unknown>],
  // Both limits admit every decision at 100/s (a 10 000/day limit would deny after its first
  // 10 000, and the row would time denials).
  ["multiLimit (100/s and 10 000 000/day)", () =>
    multiLimit([
      { rate: 100, burst: 100 },
      { rate: 10_000_000, period: 86_400_000, burst: 10_000_000 },
    ])],
];

let sink = 0;
for (const [name, make] of algorithms) {
  const clock = new ManualClock();
  const atRate = new FluxLimiter({ algorithm: make(), clock });
  Deno.bench(name, { group: "hot key at its rate", baseline: name === "gcra" }, () => {
    for (let i = 0; i < OPS; i++) {
      clock.advance(10);
      if (atRate.check("hot").allowed) sink++;
    }
  });
  const over = new FluxLimiter({ algorithm: make() });
  Deno.bench(name, { group: "hot key over its limit", baseline: name === "gcra" }, () => {
    for (let i = 0; i < OPS; i++) if (over.check("hot").allowed) sink++;
  });
}

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
