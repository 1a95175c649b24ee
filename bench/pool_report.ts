// The Pool's per-request cost against raw fetch and its peers, with the loopback server in
// another process (bench/_server.ts) and the rounds interleaved (the order shuffled every round),
// because a loaded 2-core machine drifts more between runs than within one. Each round, every
// contender sends 500 GETs with 32 in flight and reads every body. Prints, per contender, its
// median wall time and median client CPU time (user + system of this process, every thread) per
// request, and the median of the per-round ratios fetch ÷ contender (above 1: faster than fetch)
// for both. Peers: raw fetch, p-queue 10 + fetch, ofetch 1, ky 2.
// `deno run -A bench/pool_report.ts [rounds]` (about a minute with the default 30 rounds).
import ky from "ky";
import { ofetch } from "ofetch";
import PQueue from "p-queue";
import { cpuUsage } from "node:process";
import { Pool } from "../mod.ts";
import { startChildServer } from "./_child_server.ts";
import { shuffler } from "./_shuffle.ts";

const REQUESTS = 500;
const IN_FLIGHT = 32;
const WARMUP = 5;
const ROUNDS = Number(Deno.args[0] ?? 30);

const child = await startChildServer(new URL("./_server.ts", import.meta.url));
const url = `${child.origin}/item`;

/** Runs `REQUESTS` calls of `one` on `IN_FLIGHT` lanes. */
async function lanes(one: () => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next++ < REQUESTS) await one();
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** Sends `REQUESTS` calls of `one` at once, for a client that queues them itself. */
async function all(one: () => Promise<unknown>): Promise<void> {
  const calls = new Array<Promise<unknown>>(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) calls[i] = one();
  await Promise.all(calls);
}

const pool = new Pool({ baseUrl: url, workers: 4, concurrency: IN_FLIGHT / 4 });
const timed = new Pool({
  baseUrl: url,
  workers: 4,
  concurrency: IN_FLIGHT / 4,
  timeoutMs: 10_000,
});
// Server pacing (on by default) reads every answer's headers; this Pool shows what it costs.
const unpaced = new Pool({
  baseUrl: url,
  workers: 4,
  concurrency: IN_FLIGHT / 4,
  serverPacing: false,
});
const queue = new PQueue({ concurrency: IN_FLIGHT });

const contenders: [string, () => Promise<void>][] = [
  ["fetch", () => lanes(async () => await (await fetch(url)).text())],
  ["Pool", () => all(() => pool.fetch(url).then((r) => r.text()))],
  ["Pool, no server pacing", () => all(() => unpaced.fetch(url).then((r) => r.text()))],
  ["Pool, timeoutMs: 10 s", () => all(() => timed.fetch(url).then((r) => r.text()))],
  ["Pool.getJson", () => all(() => pool.getJson(url))],
  ["p-queue + fetch", () => all(() => queue.add(async () => await (await fetch(url)).text()))],
  ["ofetch", () => lanes(() => ofetch(url, { responseType: "text" }))],
  ["ky", () => lanes(() => ky.get(url).text())],
];

const wall = contenders.map(() => [] as number[]);
const cpu = contenders.map(() => [] as number[]);
// The order is shuffled every round (see _shuffle.ts).
const shuffle = shuffler();
const order = contenders.map((_, i) => i);
for (let round = 0; round < WARMUP + ROUNDS; round++) {
  shuffle(order);
  for (const i of order) {
    const c0 = cpuUsage();
    const t0 = performance.now();
    await contenders[i][1]();
    const t = performance.now() - t0;
    const c = cpuUsage(c0);
    if (round < WARMUP) continue;
    wall[i].push((t * 1000) / REQUESTS);
    cpu[i].push((c.user + c.system) / REQUESTS);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** The median of the per-round ratios fetch ÷ contender. */
function ratio(xs: number[][], i: number): number {
  return median(xs[i].map((x, round) => xs[0][round] / x));
}

console.log(
  `${REQUESTS} GETs, ${IN_FLIGHT} in flight, server in another process; ${ROUNDS} rounds`,
);
console.log("contender              wall µs/req  vs fetch   CPU µs/req  vs fetch");
for (let i = 0; i < contenders.length; i++) {
  console.log(
    `${contenders[i][0].padEnd(22)} ${median(wall[i]).toFixed(1).padStart(11)}  ${
      ratio(wall, i).toFixed(3).padStart(7)
    }×  ${median(cpu[i]).toFixed(1).padStart(10)}  ${ratio(cpu, i).toFixed(3).padStart(7)}×`,
  );
}

await pool.close();
await timed.close();
await unpaced.close();
await child.stop();
