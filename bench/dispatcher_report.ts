// The Dispatcher's per-job overhead against the fastest in-process peers, each measured in the
// same process with the rounds interleaved (peer, ours, peer, ours …, the order shuffled every
// round), because a noisy 2-core machine drifts more between runs than within one. Prints, per
// row, each contender's median time per job and the median of the per-round ratios
// peer ÷ Dispatcher (above 1: the Dispatcher is faster). Time is the process's CPU time (user +
// system, every thread, so garbage collection counts), not wall time: with other processes on the
// machine, wall time mostly measures the scheduler. Peers: @henrygd/queue 1, fastq 1 (promise
// API), p-limit 7, p-queue 10. `deno run -A bench/dispatcher_report.ts [rounds]` (about 40 s).
import { newQueue } from "@henrygd/queue";
import fastq from "fastq";
import pLimit from "p-limit";
import PQueue from "p-queue";
import { cpuUsage } from "node:process";
import { Dispatcher } from "../src/dispatch/mod.ts";
import { shuffler } from "./_shuffle.ts";

const IN_FLIGHT = 16; // jobs in flight at once, in total, for every contender
const WARMUP = 3;
const ROUNDS = Number(Deno.args[0] ?? 15);

type Work = (i: number) => Promise<unknown>;
type Submit = (i: number) => Promise<unknown>;
/** A contender: built once per row around that row's work; returns how to submit one job. */
type Contender = [name: string, make: (work: Work) => Submit];

const noop: Work = () => Promise.resolve();
// A handler that does a little async work: three awaits before it settles.
const chain: Work = async (i) => {
  await undefined;
  await undefined;
  await undefined;
  return i;
};

const henrygd: Contender = ["@henrygd/queue", (work) => {
  const queue = newQueue(IN_FLIGHT);
  let next = 0;
  return () => {
    const i = next++;
    return queue.add(() => work(i));
  };
}];
const fastqPeer: Contender = ["fastq (promise)", (work) => {
  const queue = fastq.promise(work, IN_FLIGHT);
  return (i) => queue.push(i);
}];
const pLimitPeer: Contender = ["p-limit", (work) => {
  const limit = pLimit(IN_FLIGHT);
  return (i) => limit(work, i);
}];
const pQueuePeer: Contender = ["p-queue", (work) => {
  const queue = new PQueue({ concurrency: IN_FLIGHT });
  return (i) => queue.add(() => work(i));
}];
function dispatcher(workers: number): Contender {
  const name = `Dispatcher, ${workers} worker${workers === 1 ? "" : "s"}`;
  return [name, (work) => {
    const d = new Dispatcher(work, {
      workers,
      concurrency: IN_FLIGHT / workers,
      queueCapacity: Infinity,
    });
    return (i) => d.submit(i);
  }];
}

async function round(submit: Submit, jobs: number): Promise<number> {
  const promises = new Array<Promise<unknown>>(jobs);
  const start = cpuUsage();
  for (let i = 0; i < jobs; i++) promises[i] = submit(i);
  await Promise.all(promises);
  const spent = cpuUsage(start);
  return (spent.user + spent.system) / 1000;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// The order is shuffled every round (see _shuffle.ts).
const shuffle = shuffler();

async function row(title: string, jobs: number, work: Work, contenders: Contender[]) {
  const submits = contenders.map(([, make]) => make(work));
  const times = contenders.map(() => [] as number[]);
  const order = contenders.map((_, i) => i);
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    shuffle(order);
    for (const c of order) {
      const ms = await round(submits[c], jobs);
      if (r >= WARMUP) times[c].push(ms);
    }
  }
  console.log(`\n${title} (${ROUNDS} interleaved rounds after ${WARMUP} warm-up)`);
  const ours = contenders.map(([name]) => name.startsWith("Dispatcher"));
  for (let c = 0; c < contenders.length; c++) {
    const ns = (median(times[c]) * 1e6) / jobs;
    let line = `  ${contenders[c][0].padEnd(24)} ${ns.toFixed(0).padStart(6)} ns/job CPU`;
    if (!ours[c]) {
      for (let d = 0; d < contenders.length; d++) {
        if (!ours[d]) continue;
        const ratio = median(times[c].map((t, i) => t / times[d][i]));
        line += `   ${contenders[d][0]}: ${ratio.toFixed(2)}×`;
      }
    }
    console.log(line);
  }
}

console.log(`Dispatcher vs peers, ${IN_FLIGHT} in flight; ratio = peer time ÷ Dispatcher time`);
await row("100 000 no-op jobs", 100_000, noop, [
  henrygd,
  fastqPeer,
  pLimitPeer,
  pQueuePeer,
  dispatcher(1),
  dispatcher(4),
]);
await row("20 000 jobs awaiting a short microtask chain", 20_000, chain, [
  henrygd,
  fastqPeer,
  dispatcher(1),
  dispatcher(4),
]);
