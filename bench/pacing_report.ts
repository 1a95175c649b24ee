// Goodput and rejected answers per scenario (issue 13): one loopback upstream per rate-limit
// policy × header dialect (bench/_pacing_server.ts, in its own process, ~20 ms latency), and the
// Pool with its defaults side by side with ky, got and p-queue with a hand-written Retry-After
// retry — none of them told the limit — and, as informed references told the limit up front,
// p-queue's interval/intervalCap and bottleneck. Goodput is the ideal time the server's policy
// allows for the batch divided by the wall time. A concurrency limit's ideal counts one measured
// round trip per round (a slot is free again only once its answer reaches the client); the
// goodput against the latency alone follows in brackets.
//
//   deno run -A bench/pacing_report.ts [--quick] [--only=<scenario substring>[,<substring>…]]
//                                      [--clients=pool,ky,…]
import Bottleneck from "bottleneck";
import got from "got";
import ky from "ky";
import PQueue from "p-queue";
import { Pool } from "../mod.ts";
import { startChildServer } from "./_child_server.ts";
import {
  type Dialect,
  measure,
  type Measured,
  type PolicyKind,
  type Scenario,
  Upstream,
} from "./_pacing_upstream.ts";

const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string | undefined]),
);
const quick = args.has("quick");
const N = quick ? 80 : 200;
const CALLERS = 16;
const LATENCY = 20;

const child = await startChildServer(new URL("./_pacing_server.ts", import.meta.url));
const base = child.origin;

type Client = (scenario: Scenario) => {
  send?: (i: number) => Promise<boolean>;
  /** Runs the whole batch itself (pagination). */
  batch?: (n: number) => Promise<void>;
  close?: () => Promise<void> | void;
};

async function drain(response: Response): Promise<boolean> {
  await response.body?.cancel();
  return response.ok;
}

function retryAfterMs(response: Response): number {
  const value = Number(response.headers.get("retry-after"));
  return Number.isFinite(value) && value > 0 ? value * 1000 : 1000;
}

const url = (i: number) => `${base}/items?page=${i + 1}`;

// GCRA and token buckets refill one request at a time: the informed clients space them out.
const paced = (s: Scenario) => s.policy === "gcra" || s.policy === "token";

const clients: Record<string, Client> = {
  pool: () => {
    const pool = new Pool();
    return { send: async (i) => drain(await pool.fetch(url(i))), close: () => pool.close() };
  },
  "pool.paginate": () => {
    const pool = new Pool();
    return {
      batch: async (n) => {
        for await (const _ of pool.paginate(`${base}/items`, { prefetch: CALLERS, maxItems: n })) {
          // Items arrive in page order.
        }
      },
      close: () => pool.close(),
    };
  },
  ky: () => ({
    send: async (i) => {
      try {
        await ky.get(url(i)).arrayBuffer();
        return true;
      } catch {
        return false;
      }
    },
  }),
  got: () => ({
    send: async (i) => {
      try {
        await got(url(i));
        return true;
      } catch {
        return false;
      }
    },
  }),
  "p-queue+retry": () => {
    const queue = new PQueue({ concurrency: CALLERS });
    return {
      send: (i) =>
        queue.add(async () => {
          for (;;) {
            const response = await fetch(url(i));
            if (response.status !== 429 && response.status !== 503 && response.status !== 403) {
              return drain(response);
            }
            await response.body?.cancel();
            await new Promise((r) => setTimeout(r, retryAfterMs(response)));
          }
        }) as Promise<boolean>,
    };
  },
  "p-queue informed": (s) => {
    const queue = s.policy === "concurrency"
      ? new PQueue({ concurrency: s.limit })
      : paced(s)
      ? new PQueue({ concurrency: CALLERS, interval: s.windowMs / s.limit, intervalCap: 1 })
      : new PQueue({ concurrency: CALLERS, interval: s.windowMs, intervalCap: s.limit });
    return { send: (i) => queue.add(async () => drain(await fetch(url(i)))) as Promise<boolean> };
  },
  "bottleneck informed": (s) => {
    const limiter = s.policy === "concurrency"
      ? new Bottleneck({ maxConcurrent: s.limit })
      : paced(s)
      ? new Bottleneck({ maxConcurrent: CALLERS, minTime: s.windowMs / s.limit })
      : new Bottleneck({
        maxConcurrent: CALLERS,
        reservoir: s.limit,
        reservoirRefreshAmount: s.limit,
        reservoirRefreshInterval: s.windowMs,
      });
    return {
      send: (i) => limiter.schedule(async () => drain(await fetch(url(i)))),
      close: () => limiter.stop({ dropWaitingJobs: false }),
    };
  },
};

const POLICIES: [PolicyKind, Partial<Scenario>][] = [
  ["gcra", { limit: 20, windowMs: 1000, burst: 5 }],
  ["fixed-up", { limit: 20, windowMs: 1000, burst: 20 }],
  ["fixed-down", { limit: 20, windowMs: 1000, burst: 20 }],
  ["sliding", { limit: 20, windowMs: 1000, burst: 20 }],
  ["token", { limit: 20, windowMs: 1000, burst: 5 }],
  ["concurrency", { limit: 4, windowMs: 1000, burst: 4 }],
];
const DIALECTS: Dialect[] = [
  "draft11",
  "legacy",
  "draft7",
  "x-delta",
  "x-epoch",
  "github",
  "retry-after",
  "none",
  "openai",
  "anthropic",
];
// The AI APIs' limits are token buckets (a quota per minute, refilled continuously); the windows
// show how their "until whole again" resets read on the other policies. Fixed windows rounded down
// and concurrency limits are left out.
const AI_POLICIES: PolicyKind[] = ["gcra", "token", "fixed-up", "sliding"];

function scenarios(): [string, Scenario][] {
  const out: [string, Scenario][] = [];
  for (const [policy, size] of POLICIES) {
    for (const dialect of DIALECTS) {
      const ai = dialect === "openai" || dialect === "anthropic";
      if (ai && !AI_POLICIES.includes(policy)) continue;
      const s = { policy, dialect, latencyMs: LATENCY, ...size } as Scenario;
      out.push([`${policy}/${dialect}`, s]);
      if (dialect === "x-epoch") {
        out.push([`${policy}/${dialect} skew -3s`, { ...s, skewMs: -3000 }]);
      }
    }
  }
  return out;
}

// The median round trip of 21 requests sent one after the other with `fetch`, nothing limiting
// them: what one round of a concurrency limit takes at best.
async function roundTripMs(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const start = performance.now();
    await (await fetch(`${base}/__echo`)).text();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[10];
}

async function run(name: string, scenario: Scenario): Promise<Measured> {
  await (await fetch(`${base}/__scenario`, { method: "POST", body: JSON.stringify(scenario) }))
    .text();
  const trip = scenario.policy === "concurrency" ? await roundTripMs() : undefined;
  const client = clients[name](scenario);
  const serverStart = Date.now() + (scenario.skewMs ?? 0);
  const start = performance.now();
  let failures = 0;
  try {
    if (client.batch) await client.batch(N);
    else {
      let next = 0;
      const caller = async () => {
        while (next < N) {
          const i = next++;
          for (let tries = 0; !(await client.send!(i)); tries++) {
            failures++;
            if (tries > 50) throw new Error(`request ${i} failed 50 times`);
          }
        }
      };
      await Promise.all(Array.from({ length: CALLERS }, caller));
    }
  } finally {
    await client.close?.();
  }
  const upstream = new Upstream(scenario);
  const stats = await (await fetch(`${base}/__stats`)).json();
  upstream.accepted = stats.accepted;
  upstream.rejected = stats.rejected;
  const m = measure(upstream, N, start, serverStart, failures, trip);
  // What the ideal of the latency alone gave, for comparison with earlier tables.
  if (trip !== undefined) m.latencyGoodput = upstream.idealMs(N, serverStart) / m.wallMs;
  return m;
}

const only = args.get("only")?.split(",");
const names = (args.get("clients") ?? Object.keys(clients).join(",")).split(",");
const rows: string[] = [];
rows.push(`| scenario | ${names.join(" | ")} |`);
rows.push(`|---|${names.map(() => "---").join("|")}|`);
for (const [label, scenario] of scenarios()) {
  if (only !== undefined && !only.some((part) => label.includes(part))) continue;
  const cells: string[] = [];
  for (const name of names) {
    try {
      const m = await run(name, scenario);
      const plain = m.latencyGoodput === undefined ? "" : ` (${m.latencyGoodput.toFixed(2)})`;
      cells.push(`${m.goodput.toFixed(2)} / ${(m.rejectShare * 100).toFixed(1)} %${plain}`);
    } catch (error) {
      cells.push(`failed (${(error as Error).message.slice(0, 40)})`);
    }
  }
  const row = `| ${label} | ${cells.join(" | ")} |`;
  rows.push(row);
  console.error(row);
}
console.log(
  `\nGoodput / rejected answers; ${N} requests, ${CALLERS} callers, ${LATENCY} ms latency.\n`,
);
console.log(rows.join("\n"));
await child.stop();
