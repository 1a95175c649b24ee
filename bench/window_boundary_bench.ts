// How many requests pass in the worst window of `windowMs` when traffic straddles a window
// boundary, for our slidingWindow and fixedWindow, upstash's two-window weighted estimate
// (re-implemented from its documented formula) and the real p-queue with interval/intervalCap
// (fixed windows by default, `strict: true` for its sliding window).
//
// The offered traffic: one request at t = 0 (which starts p-queue's interval clock and sits in
// the first aligned window), then one request every millisecond from t = 90 to t = 190, with
// windowMs = 100 and limit = 10. `deno run -A bench/window_boundary_bench.ts` prints the table;
// `deno bench` prints it too and times one replay of the traffic per limiter.
import PQueue from "p-queue";
import type { Algorithm } from "../src/limiter/mod.ts";
import { fixedWindow, slidingWindow } from "../src/limiter/mod.ts";

const WINDOW = 100;
const LIMIT = 10;
const OFFERS = [0, ...Array.from({ length: 101 }, (_, i) => 90 + i)];

/**
 * upstash/ratelimit-js's sliding window, from its documented formula: the previous fixed
 * window's count weighted by how much of it still overlaps the sliding window, plus the current
 * window's count (`floor(prev * (1 - elapsed / window)) + current`, as its script rounds).
 */
function upstashEstimate(limit: number, windowMs: number): (now: number) => boolean {
  const counts = new Map<number, number>();
  return (now) => {
    const index = Math.floor(now / windowMs);
    const elapsed = (now % windowMs) / windowMs;
    const current = counts.get(index) ?? 0;
    const previous = Math.floor((counts.get(index - 1) ?? 0) * (1 - elapsed));
    if (previous + current + 1 > limit) return false;
    counts.set(index, current + 1);
    return true;
  };
}

function ours(algorithm: Algorithm<unknown>): (now: number) => boolean {
  let state: unknown;
  return (now) => {
    const t = algorithm.decide(state, now, 1);
    state = t.state;
    return t.decision.allowed;
  };
}

/** Replays the offers in virtual time; returns the times of the admitted requests. */
function replay(admit: (now: number) => boolean): number[] {
  return OFFERS.filter((t) => admit(t));
}

/** Offers the same traffic to a real p-queue in real time; returns the task start times. */
async function pQueue(strict: boolean, clock: () => number): Promise<number[]> {
  const queue = new PQueue({ interval: WINDOW, intervalCap: LIMIT, strict });
  const starts: number[] = [];
  const origin = clock();
  await new Promise<void>((resolve) => {
    for (const t of OFFERS) {
      setTimeout(() => queue.add(() => void starts.push(clock() - origin)), t);
    }
    // Stop at the end of the traffic: queued tasks that have not started are dropped.
    setTimeout(() => (queue.clear(), resolve()), OFFERS[OFFERS.length - 1] + 5);
  });
  await queue.onIdle();
  return starts;
}

/** The most admissions in any half-open window [t, t + windowMs). */
function worstWindow(times: number[]): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + WINDOW) j++;
    max = Math.max(max, j - i);
  }
  return max;
}

const rows: [string, number[]][] = [
  ["fluxpool slidingWindow", replay(ours(slidingWindow({ limit: LIMIT, windowMs: WINDOW })))],
  ["fluxpool fixedWindow", replay(ours(fixedWindow({ limit: LIMIT, windowMs: WINDOW })))],
  ["upstash two-window estimate (re-implemented)", replay(upstashEstimate(LIMIT, WINDOW))],
  ["p-queue interval/intervalCap (fixed windows)", await pQueue(false, Date.now)],
  ["p-queue interval/intervalCap, strict: true", await pQueue(true, Date.now)],
  ["p-queue strict, timed by performance.now()", await pQueue(true, () => performance.now())],
];
console.log(
  `\nWorst window of ${WINDOW} ms, limit ${LIMIT}, ${OFFERS.length} offers straddling t = ${WINDOW}:`,
);
console.log("| limiter | admitted | max in any window | over the limit |");
console.log("|---|---:|---:|---:|");
for (const [name, times] of rows) {
  const max = worstWindow(times);
  console.log(`| ${name} | ${times.length} | ${max} | ${max > LIMIT ? `+${max - LIMIT}` : "no"} |`);
}

const group = `window boundary replay (${OFFERS.length} offers)`;
Deno.bench("fluxpool fixedWindow", { group, baseline: true }, () => {
  replay(ours(fixedWindow({ limit: LIMIT, windowMs: WINDOW })));
});
Deno.bench("fluxpool slidingWindow", { group }, () => {
  replay(ours(slidingWindow({ limit: LIMIT, windowMs: WINDOW })));
});
Deno.bench("upstash two-window estimate (re-implemented)", { group }, () => {
  replay(upstashEstimate(LIMIT, WINDOW));
});
