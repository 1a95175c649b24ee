// The three limiter rows of the benchmark summary, each contender measured in the same process
// with the rounds interleaved (the order shuffled every round), because a noisy 2-core machine
// drifts more between runs than within one. Time is the process's CPU time (user + system),
// medians over rounds; ratios are the medians of the per-round ratios.
//
// 1. `FluxLimiter.check` against a minimal GCRA over a `Map` on `Date.now()` (the floor: the least
//    work an exact keyed GCRA can do, on the cheapest clock), the same floor on
//    `performance.now()`, and rate-limiter-flexible's `RateLimiterMemory` (which reads
//    `Date.now()`); one hot key, and 100 000 keys. Every decision admits.
// 2. Each algorithm through `new FluxLimiter({ algorithm })`, one hot key, a `ManualClock` moving
//    10 ms per decision at 100/s (every decision admits), relative to `gcra`.
// 3. Heap per key at 1 000 000 keys, state only: the keys are allocated before the baseline.
//
// `deno run -A --v8-flags=--expose-gc bench/limiter_report.ts [rounds]`
import { RateLimiterMemory } from "rate-limiter-flexible";
import { cpuUsage } from "node:process";
import { FluxLimiter } from "../mod.ts";
import { type Algorithm, type Clock, systemClock } from "../src/limiter/mod.ts";
import {
  fixedWindow,
  gcra,
  leakyBucket,
  monotonicDateClock,
  multiLimit,
  slidingWindow,
  tokenBucket,
} from "../src/limiter/mod.ts";
import { ManualClock } from "../src/testing/mod.ts";
import { shuffler } from "./_shuffle.ts";

const ROUNDS = Number(Deno.args[0] ?? 15);
const ONLY = Deno.args[1]; // "clock", "algorithms" or "memory": one part only
const WARMUP = 3;
const OPS = 200_000; // decisions per round
const KEYS = 100_000;
const RATE = 1e9; // per second: never the bottleneck
const BURST = 1_000_000;
const keys = Array.from({ length: KEYS }, (_, i) => `client-${i}`);

type Run = (ops: number) => number | Promise<number>;
type Contender = [name: string, make: () => Run];

function cpuMs(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function spread(values: number[]): string {
  const sorted = values.toSorted((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return `${q(0.25).toFixed(2)}–${q(0.75).toFixed(2)}`;
}

// The order is shuffled every round (see _shuffle.ts).
const shuffle = shuffler();

// `timed`: each run returns its own CPU milliseconds (measured in a child process).
async function row(title: string, contenders: Contender[], baselines: string[], timed = false) {
  const runs = contenders.map(([, make]) => make());
  const times = contenders.map(() => [] as number[]);
  const order = contenders.map((_, i) => i);
  let sink = 0;
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    shuffle(order);
    for (const c of order) {
      const start = cpuMs();
      const result = await runs[c](OPS);
      const ms = timed ? result : cpuMs() - start;
      sink += result;
      if (r >= WARMUP) times[c].push(ms);
    }
  }
  if (sink < 0) console.log(sink);
  const how = timed ? "each run in its own process, " : "";
  console.log(`\n${title} (${ROUNDS} interleaved rounds after ${WARMUP} warm-up, ${how}CPU time)`);
  console.log(`  ratio = that contender's time ÷ this row's time (above 1: this row is faster)`);
  for (let c = 0; c < contenders.length; c++) {
    const ns = (median(times[c]) * 1e6) / OPS;
    let line = `  ${contenders[c][0].padEnd(44)} ${ns.toFixed(1).padStart(7)} ns`;
    for (const base of baselines) {
      const b = contenders.findIndex(([name]) => name === base);
      if (b === c) continue;
      const ratios = times[b].map((t, i) => t / times[c][i]);
      line += `   vs ${base}: ${median(ratios).toFixed(2)}× (IQR ${spread(ratios)})`;
    }
    console.log(line);
  }
}

// A fresh copy of `fn` (its own compiled code and type feedback) for each contender, so that no
// contender's loop sees another's types: one limiter per call site, as in an application. With
// one shared loop, V8 inlines the first limiter's path and a second algorithm at the same site
// can leave the first at several times its cost (a token bucket at 180 ns instead of 27 ns).
function fresh<F>(fn: F): F {
  return new Function(`return ${String(fn)}`)() as F;
}

type Loop<T> = (target: T, keys: string[] | undefined, from: number, ops: number) => number;
function contender<T>(target: T, keys: string[] | undefined, loop: Loop<T>): Run {
  const run = fresh(loop);
  let cursor = 0;
  return (ops) => {
    const n = run(target, keys, cursor, ops);
    cursor += ops;
    return n;
  };
}

/** The floor: GCRA over a Map, no validation, no eviction, a boolean answer. */
function floor(now: () => number, keys: string[] | undefined): Run {
  const interval = 1000 / RATE;
  const state = { tats: new Map<string, number>(), now, interval, tolerance: BURST * interval };
  return contender(state, keys, (floor, keys, from, ops) => {
    const { tats, now, interval, tolerance } = floor;
    let n = 0;
    for (let i = from; i < from + ops; i++) {
      const key = keys === undefined ? "hot" : keys[i % keys.length];
      const t = now();
      const tat = Math.max(tats.get(key) ?? t, t) + interval;
      if (tat - t > tolerance) continue;
      tats.set(key, tat);
      n++;
    }
    return n;
  });
}

function flux(clock: Clock, keys: string[] | undefined): Run {
  const limiter = new FluxLimiter({ rate: RATE, burst: BURST, maxKeys: 200_000, clock });
  return contender(limiter, keys, (limiter, keys, from, ops) => {
    let n = 0;
    for (let i = from; i < from + ops; i++) {
      if (limiter.check(keys === undefined ? "hot" : keys[i % keys.length]).allowed) n++;
    }
    return n;
  });
}

function rlf(keys: string[] | undefined): Run {
  // Far more points than any run consumes: a rejection would end the run, not measure it.
  const limiter = new RateLimiterMemory({ points: 1e12, duration: 1 });
  let cursor = 0;
  return async (ops) => {
    for (let i = cursor; i < cursor + ops; i++) {
      await limiter.consume(keys === undefined ? "hot" : keys[i % keys.length], 1);
    }
    cursor += ops;
    return ops;
  };
}

const FLOOR = "floor: GCRA Map on Date.now()";
const RLF = "rate-limiter-flexible Memory";
for (const [scenario, pick] of [["one hot key", undefined], ["100 000 keys", keys]] as const) {
  if (ONLY !== undefined && ONLY !== "clock") break;
  await row(`FluxLimiter.check, ${scenario}`, [
    [FLOOR, () => floor(() => Date.now(), pick)],
    ["floor on performance.now()", () => floor(() => performance.now(), pick)],
    ["FluxLimiter (systemClock)", () => flux(systemClock, pick)],
    ["FluxLimiter (monotonicDateClock)", () => flux(monotonicDateClock(), pick)],
    [RLF, () => rlf(pick)],
  ], [FLOOR, RLF]);
}

const algorithms: [string, () => Algorithm<unknown>][] = [
  ["gcra", () => gcra({ rate: 100, burst: 100 }) as Algorithm<unknown>],
  ["tokenBucket", () => tokenBucket({ rate: 100, burst: 100 }) as Algorithm<unknown>],
  ["leakyBucket", () => leakyBucket({ rate: 100, burst: 100 }) as Algorithm<unknown>],
  ["fixedWindow", () => fixedWindow({ limit: 100, windowMs: 1000 }) as Algorithm<unknown>],
  ["slidingWindow", () => slidingWindow({ limit: 100, windowMs: 1000 }) as Algorithm<unknown>],
  // Two limits that both admit every decision of the run (a 10 000/day limit would deny after
  // its first 10 000 and time denials instead).
  ["multiLimit (100/s and 10 000 000/day)", () =>
    multiLimit([
      { rate: 100, burst: 100 },
      { rate: 10_000_000, period: 86_400_000, burst: 10_000_000 },
    ])],
];
// Each algorithm runs in a process of its own (the processes interleaved round by round), as
// in an application with one kind of limiter: FluxLimiter's call sites are shared by every
// limiter in a process, and in one process V8's inlining after a mix of algorithms depends on
// which ran first (the same token bucket measured 26 ns after gcra, 180 ns before it).
if (ONLY === "child") {
  const [, , index, ops] = Deno.args.map(Number);
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ algorithm: algorithms[index][1](), clock });
  const run = (ops: number) => {
    let n = 0;
    for (let i = 0; i < ops; i++) {
      clock.advance(10);
      if (limiter.check("hot").allowed) n++;
    }
    return n;
  };
  // Warm-up: five times the measured run, so that V8's optimizing compiler, a background thread
  // that waits for a core on a loaded machine, has finished before the clock starts (after one
  // run of 200 000, the sliding log measured 72 ns a decision here, 34 ns after 1 000 000).
  for (let w = 0; w < 5; w++) run(ops);
  const start = cpuMs();
  if (run(ops) !== ops) throw new Error("a decision was denied");
  console.log(cpuMs() - start);
} else if (ONLY === undefined || ONLY === "algorithms") {
  const child = (index: number): Run => async (ops) => {
    const args = ["run", "-A", import.meta.filename!, "0", "child", `${index}`, `${ops}`];
    const { stdout } = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" })
      .output();
    return Number(new TextDecoder().decode(stdout));
  };
  await row(
    "Algorithms, one hot key at its rate (ManualClock, every decision admits)",
    algorithms.map(([name], index): Contender => [name, () => child(index)]),
    ["gcra"],
    true,
  );
}

// Heap per key: 1 000 000 keys, each checked once (slidingWindow: each key's log then holds one
// entry; a second row fills 10 entries per key over 100 000 keys).
const gc = (globalThis as { gc?: () => void }).gc;
if (ONLY !== undefined && ONLY !== "memory") {
  // skipped
} else if (gc === undefined) {
  console.log("\n(heap per key skipped: run with --v8-flags=--expose-gc)");
} else {
  const N = 1_000_000;
  const bigKeys = Array.from({ length: N }, (_, i) => `key-${i}`);
  const heap = () => {
    gc();
    gc();
    const { heapUsed, external } = Deno.memoryUsage();
    return heapUsed + external; // typed arrays live outside the V8 heap
  };
  console.log(
    `\nHeap per key at ${N.toLocaleString("en")} keys, state only (keys allocated before)`,
  );
  const cases: [string, () => Algorithm<unknown>, number, number][] = [
    ...algorithms.map(([name, make]): [string, () => Algorithm<unknown>, number, number] => [
      name,
      make,
      N,
      1,
    ]),
    ["slidingWindow, 10 entries per key", algorithms[4][1], N / 10, 10],
  ];
  // Each case in its own call, so that no stack slot keeps the previous limiter alive.
  const measure = (make: () => Algorithm<unknown>, count: number, each: number) => {
    const clock = new ManualClock();
    const before = heap();
    const limiter = new FluxLimiter({ algorithm: make(), clock, maxKeys: N });
    for (let e = 0; e < each; e++) {
      clock.advance(1);
      for (let i = 0; i < count; i++) limiter.check(bigKeys[i]);
    }
    const bytes = (heap() - before) / count;
    if (limiter.size !== count) throw new Error(`${limiter.size} keys, expected ${count}`);
    return bytes;
  };
  for (const [name, make, count, each] of cases) {
    const bytes = measure(make, count, each);
    heap();
    const per = each > 1 ? ` (${(bytes / each).toFixed(0)} B per entry)` : "";
    console.log(`  ${name.padEnd(44)} ${bytes.toFixed(0).padStart(5)} B per key${per}`);
  }
}
