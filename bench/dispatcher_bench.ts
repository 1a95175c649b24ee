// Dispatch overhead per job, side by side in one run with p-queue 10, p-limit 7, @henrygd/queue 1
// and fastq 1 at the same total concurrency: every iteration submits 10 000 no-op jobs at once and
// awaits them all, so what is measured is the scheduler (admission, queueing, completion,
// settling), not the work. Deno.bench runs one contender after another; the interleaved
// comparison behind the README's figures is bench/dispatcher_report.ts.
import { newQueue } from "@henrygd/queue";
import fastq from "fastq";
import PQueue from "p-queue";
import pLimit from "p-limit";
import { Dispatcher } from "../src/dispatch/mod.ts";

const JOBS = 10_000;
const CONCURRENCY = 16; // in flight at once, in total, for every contender
const noop = (): Promise<void> => Promise.resolve();

function submitAll(submit: (i: number) => Promise<unknown>): Promise<unknown[]> {
  const jobs = new Array<Promise<unknown>>(JOBS);
  for (let i = 0; i < JOBS; i++) jobs[i] = submit(i);
  return Promise.all(jobs);
}

const queue = new PQueue({ concurrency: CONCURRENCY });
Deno.bench("p-queue", { group: "10 000 no-op jobs", baseline: true }, async () => {
  await submitAll(() => queue.add(noop));
});

const limit = pLimit(CONCURRENCY);
Deno.bench("p-limit", { group: "10 000 no-op jobs" }, async () => {
  await submitAll(() => limit(noop));
});

const henrygd = newQueue(CONCURRENCY);
Deno.bench("@henrygd/queue", { group: "10 000 no-op jobs" }, async () => {
  await submitAll(() => henrygd.add(noop));
});

const fastQueue = fastq.promise(noop, CONCURRENCY);
Deno.bench("fastq (promise)", { group: "10 000 no-op jobs" }, async () => {
  await submitAll((i) => fastQueue.push(i));
});

const single = new Dispatcher(noop, {
  workers: 1,
  concurrency: CONCURRENCY,
  queueCapacity: Infinity,
});
Deno.bench("Dispatcher, 1 worker", { group: "10 000 no-op jobs" }, async () => {
  await submitAll((i) => single.submit(i));
});

const four = new Dispatcher(noop, {
  workers: 4,
  concurrency: CONCURRENCY / 4,
  queueCapacity: Infinity,
});
Deno.bench("Dispatcher, 4 workers", { group: "10 000 no-op jobs" }, async () => {
  await submitAll((i) => four.submit(i));
});

const sessions = Array.from({ length: 1000 }, (_, i) => `session-${i}`);
const affine = new Dispatcher(noop, {
  workers: 4,
  concurrency: CONCURRENCY / 4,
  queueCapacity: Infinity,
});
Deno.bench("Dispatcher, 4 workers, 1 000 sessions", { group: "10 000 no-op jobs" }, async () => {
  await submitAll((i) => affine.submit(i, { session: sessions[i % 1000] }));
});

const controller = new AbortController();
Deno.bench("Dispatcher, 4 workers, caller signal", { group: "10 000 no-op jobs" }, async () => {
  await submitAll((i) => four.submit(i, { signal: controller.signal }));
});

// Backpressure: queues smaller than the burst, so most jobs wait for space.
const bounded = new Dispatcher(noop, {
  workers: 4,
  concurrency: CONCURRENCY / 4,
  queueCapacity: 64,
});
Deno.bench("Dispatcher, 4 workers, overflow wait", { group: "10 000 no-op jobs" }, async () => {
  await submitAll((i) => bounded.submit(i));
});
