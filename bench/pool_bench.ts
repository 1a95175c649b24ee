// Requests per second through Pool against a loopback server in another process, side by side
// in one run with raw fetch, ky, ofetch and p-queue + fetch. Every iteration sends 500 GETs with
// 32 in flight at once and reads every body.
import ky from "ky";
import { ofetch } from "ofetch";
import PQueue from "p-queue";
import { Pool } from "../mod.ts";
import { startChildServer } from "./_child_server.ts";

const REQUESTS = 500;
const CONCURRENCY = 32;

const child = await startChildServer(new URL("./_server.ts", import.meta.url));
const url = `${child.origin}/item`;
globalThis.addEventListener("unload", () => child.kill());

/** Runs `REQUESTS` calls of `one` on `CONCURRENCY` lanes. */
async function lanes(one: () => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next++ < REQUESTS) await one();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

const group = "500 GETs, 32 in flight";
// Same number of timed runs for everyone, after warm-up runs that open the keep-alive
// connections and let the JIT settle.
const runs = { n: 40, warmup: 10 };

Deno.bench("fetch", { group, baseline: true, ...runs }, async () => {
  await lanes(async () => await (await fetch(url)).text());
});

const pool = new Pool({ baseUrl: url, workers: 4, concurrency: CONCURRENCY / 4 });
Deno.bench("Pool", { group, ...runs }, async () => {
  const calls = new Array<Promise<string>>(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) calls[i] = pool.fetch(url).then((r) => r.text());
  await Promise.all(calls);
});

// The price of a per-attempt timeout: every attempt then has an AbortController of its own.
const timed = new Pool({
  baseUrl: url,
  workers: 4,
  concurrency: CONCURRENCY / 4,
  timeoutMs: 10_000,
});
Deno.bench("Pool, timeoutMs: 10 s", { group, ...runs }, async () => {
  const calls = new Array<Promise<string>>(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) calls[i] = timed.fetch(url).then((r) => r.text());
  await Promise.all(calls);
});

Deno.bench("ky", { group, ...runs }, async () => {
  await lanes(() => ky.get(url).text());
});

Deno.bench("ofetch", { group, ...runs }, async () => {
  await lanes(() => ofetch(url, { responseType: "text" }));
});

const queue = new PQueue({ concurrency: CONCURRENCY });
Deno.bench("p-queue + fetch", { group, ...runs }, async () => {
  const calls = new Array<Promise<string>>(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) {
    calls[i] = queue.add(async () => await (await fetch(url)).text());
  }
  await Promise.all(calls);
});
