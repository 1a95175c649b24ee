// Run by paginate_memory_test.ts with --expose-gc: streams 2 000 pages of 100 items from an
// in-process API to a slow-ish consumer and prints heapUsed (MiB) sampled after a GC every 200
// pages, as JSON on stdout.
import { paginate } from "../../mod.ts";
import type { PageFetcher } from "../../mod.ts";

const PAGES = 2_000;
const PER_PAGE = 100;
const filler = "x".repeat(200);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

// Synthetic responses, so the probe measures the stream, not a server.
const fetcher: PageFetcher = (input) => {
  const page = Number(new URL(input).searchParams.get("page"));
  const data = Array.from(
    { length: PER_PAGE },
    (_, i) => ({ id: (page - 1) * PER_PAGE + i, filler }),
  );
  return Promise.resolve(Response.json({ data, pagination: { total_pages: PAGES } }));
};

const heap = () => Deno.memoryUsage().heapUsed / 1024 / 1024;
gc();
const start = heap();
const samples: number[] = [];
let count = 0;
let sum = 0;
const started = performance.now();
for await (
  const item of paginate<{ id: number }>(fetcher, "http://api.test/items", { prefetch: 4 })
) {
  sum += item.id;
  count++;
  // A slow-ish consumer: it yields to the event loop every 500 items.
  if (count % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  if (count % (200 * PER_PAGE) === 0) {
    gc();
    samples.push(heap());
  }
}
console.log(JSON.stringify({ start, samples, count, sum, ms: performance.now() - started }));
