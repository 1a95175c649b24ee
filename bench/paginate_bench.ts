// Auto-pagination over 200 pages served with 20 ms of latency each, against the ideal
// Lm + (N - 1) * Lm / prefetch, where Lm is the measured latency of one raw fetch of a page (the
// first page alone, then the other N - 1 perfectly pipelined). Peers: got's and Octokit's
// paginators (sequential, following `Link: rel="next"`) and a p-map loop over page numbers.
// Run: deno bench -A bench/paginate_bench.ts (about a minute and a half).
// `speculative` rows request pages 2..n with the first instead of waiting for its total;
// `linkHeader` rows read the GitHub-shaped endpoint (Link rel="next" and rel="last").
// The summary also gives, for fluxpool and p-map, the mean number of requests in flight over
// each run (the time integral of the requests sent and not yet answered, over the wall time).
import got from "got";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import pMap from "p-map";
import { linkHeader, type PageFetcher, pageNumber, paginate } from "../mod.ts";

const PAGES = 200;
const PER_PAGE = 30;
const LATENCY_MS = 20;

function items(page: number): { id: number; title: string }[] {
  return Array.from({ length: PER_PAGE }, (_, i) => {
    const id = (page - 1) * PER_PAGE + i;
    return { id, title: `issue ${id}` };
  });
}

const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
  await new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
  const url = new URL(request.url);
  const page = Number(url.searchParams.get("page") ?? 1);
  if (url.pathname === "/items") {
    return Response.json({ data: items(page), pagination: { total_pages: PAGES } });
  }
  // A GitHub-style list endpoint: the body is the array, the next page is in the Link header.
  const headers = new Headers();
  if (page < PAGES) {
    const next = new URL(url);
    next.searchParams.set("page", String(page + 1));
    headers.set(
      "link",
      `<${next.href}>; rel="next", <${url.origin}${url.pathname}?page=${PAGES}>; rel="last"`,
    );
  }
  return Response.json(items(page), { headers });
});
const base = `http://127.0.0.1:${server.addr.port}`;
server.unref(); // let the bench process end without a shutdown

// Requests in flight, integrated over time: `busy` ms·requests since the run started.
let inflight = 0;
let busy = 0;
let since = 0;
function tick(change: number): void {
  const now = performance.now();
  busy += inflight * (now - since);
  since = now;
  inflight += change;
}
async function counted(input: string | URL, init?: RequestInit): Promise<Response> {
  tick(1);
  try {
    return await fetch(input, init);
  } finally {
    tick(-1);
  }
}

const fetcher: PageFetcher = (input, init) => counted(input, { signal: init.signal });
const MyOctokit = Octokit.plugin(paginateRest);
const octokit = new MyOctokit({ baseUrl: base });

function check(count: number): void {
  if (count !== PAGES * PER_PAGE) throw new Error(`got ${count} items`);
}

async function fluxpool(prefetch: number, speculative = false): Promise<void> {
  let count = 0;
  const strategy = pageNumber({ speculative });
  for await (const _ of paginate(fetcher, `${base}/items`, { prefetch, strategy })) count++;
  check(count);
}

async function pMapLoop(concurrency: number): Promise<void> {
  const get = async (page: number) =>
    (await (await counted(`${base}/items?page=${page}`)).json()) as {
      data: unknown[];
      pagination: { total_pages: number };
    };
  const first = await get(1);
  const rest = Array.from({ length: first.pagination.total_pages - 1 }, (_, i) => i + 2);
  const pages = await pMap(rest, get, { concurrency });
  check(first.data.length + pages.reduce((sum, page) => sum + page.data.length, 0));
}

async function fluxpoolLink(prefetch: number): Promise<void> {
  let count = 0;
  const url = `${base}/repos/o/r/issues?page=1`;
  for await (const _ of paginate(fetcher, url, { prefetch, strategy: linkHeader() })) count++;
  check(count);
}

// Lm: the median of 30 raw fetches of one page, read to the end.
const latencies: number[] = [];
for (let i = 0; i < 30; i++) {
  const started = performance.now();
  await (await fetch(`${base}/items?page=${1 + (i % PAGES)}`)).json();
  latencies.push(performance.now() - started);
}
const Lm = latencies.sort((a, b) => a - b)[latencies.length >> 1];
const idealMs = (concurrency: number) => Lm + ((PAGES - 1) * Lm) / concurrency;
const ideal = (concurrency: number) =>
  `ideal ${(LATENCY_MS + ((PAGES - 1) * LATENCY_MS) / concurrency).toFixed(0)} ms at 20 ms`;

// Wall time of every run, printed at the end as a ratio to the ideal with millisecond
// resolution (deno bench prints "1.1 s" for the runs above a second).
const runs = new Map<string, { concurrency: number; ms: number[]; inflight: number[] }>();

/** Registers a bench of `fn` in its concurrency group and records each run's wall time. */
function bench(
  name: string,
  concurrency: number,
  fn: () => Promise<void>,
  baseline = false,
): void {
  const record = { concurrency, ms: [] as number[], inflight: [] as number[] };
  runs.set(name, record);
  Deno.bench({
    name,
    group: concurrency === 1
      ? `sequential (${ideal(1)})`
      : `concurrency ${concurrency} (${ideal(concurrency)})`,
    baseline,
    n: concurrency === 1 ? 1 : 2,
    warmup: 0,
    async fn() {
      const start = performance.now();
      busy = 0;
      since = start;
      await fn();
      const ms = performance.now() - start;
      tick(0);
      record.ms.push(ms);
      record.inflight.push(busy / ms);
    },
  });
}

bench("fluxpool paginate, prefetch 1", 1, () => fluxpool(1), true);
bench("fluxpool paginate, prefetch 1, linkHeader", 1, () => fluxpoolLink(1));
bench("got.paginate.all (Link rel=next)", 1, async () => {
  check(
    (await got.paginate.all(`${base}/repos/o/r/issues?page=1`, { responseType: "json" })).length,
  );
});
bench("octokit.paginate (Link rel=next)", 1, async () => {
  check(
    (await octokit.paginate("GET /repos/{owner}/{repo}/issues", { owner: "o", repo: "r" })).length,
  );
});
for (const concurrency of [4, 8, 16]) {
  bench(
    `fluxpool paginate, prefetch ${concurrency}`,
    concurrency,
    () => fluxpool(concurrency),
    true,
  );
  bench(
    `fluxpool paginate, prefetch ${concurrency}, speculative`,
    concurrency,
    () => fluxpool(concurrency, true),
  );
  bench(
    `fluxpool paginate, prefetch ${concurrency}, linkHeader`,
    concurrency,
    () => fluxpoolLink(concurrency),
  );
  bench(`p-map loop, concurrency ${concurrency}`, concurrency, () => pMapLoop(concurrency));
}

globalThis.addEventListener("unload", () => {
  console.log(
    `\nwall time against the ideal Lm + (N - 1) * Lm / prefetch, Lm = ${
      Lm.toFixed(1)
    } ms, best run (mean requests in flight over that run):`,
  );
  for (const [name, { concurrency, ms, inflight }] of runs) {
    if (ms.length === 0) continue;
    const best = Math.min(...ms);
    const mean = inflight[ms.indexOf(best)];
    console.log(
      `  ${name.padEnd(46)} ${best.toFixed(0).padStart(5)} ms  ${
        (best / idealMs(concurrency)).toFixed(3)
      }x${mean > 0 ? `  ${mean.toFixed(1)} in flight` : ""}`,
    );
  }
});
