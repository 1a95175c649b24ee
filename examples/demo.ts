// The main demo: `npm install && npm run demo`.
//
// An embedded upstream (a paginated REST API on loopback that enforces 60 requests/s, says so in
// the IETF RateLimit fields, and fails now and then) and a Pool that fetches every page through
// it with prefetch: the pool paces itself from the headers, retries the failures, and hands the
// items out as a stream, in order, each exactly once.
import { formatStats, Pool, type PoolEvent } from "../mod.ts";
import { startUpstream } from "./demo_upstream.ts";

/** Options for {@linkcode runDemo}. */
export interface DemoOptions {
  items?: number;
  perPage?: number;
  prefetch?: number;
  limit?: number;
  failureRate?: number;
  /** Random source of the upstream's latency and failures. */
  random?: () => number;
  /** Where the progress line goes; nothing when undefined. */
  progress?: (line: string, final: boolean) => void;
}

/** What the demo measured. */
export interface DemoResult {
  items: number;
  pages: number;
  exactlyOnceInOrder: boolean;
  retries: number;
  throttled: number;
  upstream: { requests: number; limited: number; failed: number };
  summary: string;
  elapsedMs: number;
}

/** Runs the demo end to end and returns what it measured. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const { items = 10_000, perPage = 50, prefetch = 8, limit = 60, failureRate = 0.03 } = options;
  const upstream = await startUpstream({ items, limit, failureRate, random: options.random });
  let retries = 0;
  let throttled = 0;
  const onEvent = (event: PoolEvent) => {
    if (event.type === "retry") retries++;
    if (event.type === "response" && event.status === 429) throttled++;
  };
  const pool = new Pool({
    baseUrl: upstream.url,
    workers: 4,
    concurrency: 4,
    retry: { attempts: 6, baseDelayMs: 50, maxDelayMs: 2_000 },
    timeoutMs: 10_000,
    onEvent,
  });
  const started = performance.now();
  let pages = 0;
  let totalPages: number | undefined;
  let seen = 0;
  let ordered = true;
  const report = (final: boolean) => {
    const seconds = (performance.now() - started) / 1000;
    const rps = seconds > 0 ? (upstream.counters.requests / seconds).toFixed(1) : "0.0";
    options.progress?.(
      `pages ${pages}/${
        totalPages ?? "?"
      }  items ${seen}  ${rps} req/s  retries ${retries}  429s ${throttled}`,
      final,
    );
  };
  const ticker = setInterval(() => report(false), 200);
  try {
    const stream = pool.paginate<{ id: number }>(`/items?per_page=${perPage}`, {
      prefetch,
      onProgress(progress) {
        pages = progress.pages;
        totalPages = progress.totalPages;
      },
    });
    for await (const item of stream) {
      if (item.id !== seen + 1) ordered = false;
      seen++;
    }
  } finally {
    clearInterval(ticker);
    report(true);
    await pool.close();
    await upstream.shutdown();
  }
  return {
    items: seen,
    pages,
    exactlyOnceInOrder: ordered && seen === items,
    retries,
    throttled,
    upstream: { ...upstream.counters },
    summary: formatStats(pool.stats()),
    elapsedMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  const tty = Deno.stderr.isTerminal();
  let lastPrinted = 0;
  console.log(
    "fluxpool demo: fetching every page of a rate-limited, flaky upstream (60 req/s, 3 % errors)\n",
  );
  const result = await runDemo({
    progress(line, final) {
      if (tty) Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}${final ? "\n" : ""}`));
      else if (final || performance.now() - lastPrinted > 1000) {
        lastPrinted = performance.now();
        Deno.stderr.writeSync(encoder.encode(`${line}\n`));
      }
    },
  });
  console.log(
    `\n${result.items} items in ${result.pages} pages in ${
      (result.elapsedMs / 1000).toFixed(1)
    } s` +
      ` — ${
        result.exactlyOnceInOrder
          ? "every item exactly once, in order"
          : "ITEMS MISSING OR OUT OF ORDER"
      }`,
  );
  console.log(
    `upstream saw ${result.upstream.requests} requests: ${result.upstream.limited} answered 429, ` +
      `${result.upstream.failed} failed on purpose (all retried)`,
  );
  console.log(`pool: ${result.summary}`);
  if (!result.exactlyOnceInOrder) Deno.exit(1);
}
