// Item 5 of issue 14: every page carries a plain-JSON checkpoint; a reader killed mid-stream and
// restarted from its last saved checkpoint delivers every item, none lost, and none repeated
// where the checkpoint is taken per item.
import assert from "node:assert/strict";
import {
  cursor,
  linkHeader,
  offset,
  pageNumber,
  pages,
  paginate,
  type PaginationCheckpoint,
  type PaginationStrategy,
  rangeHeader,
} from "../../mod.ts";
import { delay, plainFetch, range, serve } from "./_helpers.ts";

const TOTAL = 237;
const PER_PAGE = 10;
const PAGES = Math.ceil(TOTAL / PER_PAGE);

function slice(from: number): number[] {
  return range(Math.max(0, Math.min(PER_PAGE, TOTAL - from))).map((i) => from + i);
}

// One server, four API shapes: page numbers with a total, cursors, GitHub-style Link headers
// with rel="last", and PostgREST-style Range.
function api() {
  return serve(async (url, request) => {
    await delay(2);
    const page = Number(url.searchParams.get("page") ?? 1);
    switch (url.pathname) {
      case "/numbers":
        return Response.json({
          data: slice((page - 1) * PER_PAGE),
          pagination: { total_pages: PAGES },
        });
      case "/offset": {
        const from = Number(url.searchParams.get("offset"));
        return Response.json({ data: slice(from), total: TOTAL });
      }
      case "/cursor": {
        const at = Number(url.searchParams.get("cursor") ?? 0);
        const next = at + PER_PAGE < TOTAL ? String(at + PER_PAGE) : null;
        return Response.json({ data: slice(at), next_cursor: next });
      }
      case "/link": {
        const link = (n: number, rel: string) => `<${url.origin}/link?page=${n}>; rel="${rel}"`;
        const headers = page < PAGES
          ? { link: `${link(page + 1, "next")}, ${link(PAGES, "last")}` }
          : undefined;
        return Response.json(slice((page - 1) * PER_PAGE), { headers });
      }
      case "/rows": {
        const [from] = (request.headers.get("range") ?? "").replace("items=", "").split("-");
        const data = slice(Number(from));
        const span = `${from}-${Number(from) + data.length - 1}`;
        return Response.json(data, {
          status: 206,
          headers: { "content-range": `items ${span}/${TOTAL}` },
        });
      }
    }
    return new Response("not found", { status: 404 });
  });
}

const SHAPES: [string, () => PaginationStrategy][] = [
  ["/numbers", () => pageNumber()],
  ["/offset", () => offset({ limit: PER_PAGE })],
  ["/cursor", () => cursor()],
  ["/link", () => linkHeader()],
  ["/rows", () => rangeHeader({ limit: PER_PAGE })],
];

/**
 * Reads pages until `killAt` items were handled (then "dies": aborts and stops mid-page), saving
 * a checkpoint as JSON after every item (`perItem`) or after every whole page.
 */
async function run(
  url: string,
  strategy: PaginationStrategy,
  store: { saved?: string; handled: number[] },
  killAt: number,
  perItem: boolean,
): Promise<boolean> {
  const controller = new AbortController();
  const checkpoint = store.saved === undefined ? undefined : JSON.parse(store.saved);
  const stream = pages<number>(plainFetch, url, {
    strategy,
    prefetch: 4,
    signal: controller.signal,
    checkpoint,
  });
  let handled = 0;
  for await (const page of stream) {
    for (const [i, item] of page.items.entries()) {
      store.handled.push(item);
      if (perItem) store.saved = JSON.stringify(page.checkpointAfter(i + 1));
      if (++handled === killAt) {
        controller.abort(new Error("killed"));
        return false;
      }
    }
    store.saved = JSON.stringify(page.checkpoint);
  }
  return true;
}

for (const [path, strategy] of SHAPES) {
  Deno.test(`pages() resumes ${path} from per-item checkpoints: none lost, none repeated`, async () => {
    await using server = api();
    const store: { saved?: string; handled: number[] } = { handled: [] };
    let runs = 0;
    // Killed after 37, 1, 100 and 15 items (mid-page each time), then read to the end.
    for (const killAt of [37, 1, 100, 15, Infinity]) {
      runs++;
      if (await run(`${server.url}${path}`, strategy(), store, killAt, true)) break;
    }
    assert.equal(runs, 5);
    assert.deepEqual(store.handled, range(TOTAL));
  });
}

Deno.test("pages() resumed from per-page checkpoints repeats only the pages cut short", async () => {
  await using server = api();
  const store: { saved?: string; handled: number[] } = { handled: [] };
  for (const killAt of [37, 100, Infinity]) {
    if (await run(`${server.url}/numbers`, pageNumber(), store, killAt, false)) break;
  }
  assert.deepEqual([...new Set(store.handled)], range(TOTAL));
  // 37 = 3 pages + 7 items: those 7 come again; 100 after the restart at 30 = 13 pages exactly,
  // the 100th item being the last of page 13, whose checkpoint was not saved yet: 10 again.
  assert.equal(store.handled.length, TOTAL + 7 + 10);
});

Deno.test("paginate() resumes from a JSON checkpoint; page numbers and progress count on", async () => {
  await using server = api();
  const first = pages<number>(plainFetch, `${server.url}/numbers`, { maxPages: 2 });
  let saved = "";
  for await (const page of first) saved = JSON.stringify(page.checkpoint);
  const checkpoint: PaginationCheckpoint = JSON.parse(saved);
  assert.deepEqual(checkpoint, {
    v: 1,
    page: 2,
    items: 20,
    next: { url: `${server.url}/numbers?page=3` },
    skip: 0,
  });
  const progress: number[] = [];
  const rest = await Array.fromAsync(
    paginate<number>(plainFetch, `${server.url}/numbers`, {
      checkpoint,
      onProgress: ({ pages, items }) => progress.push(pages, items),
    }),
  );
  assert.deepEqual(rest, range(TOTAL).slice(20));
  assert.deepEqual(progress.slice(0, 2), [3, 30]);
  assert.deepEqual(progress.slice(-2), [PAGES, TOTAL]);
});

Deno.test("pages() checkpoint of the last page resumes to nothing, without a request", async () => {
  await using server = api();
  let last: PaginationCheckpoint | undefined;
  const url = `${server.url}/cursor`;
  for await (const page of pages(plainFetch, url, { strategy: cursor() })) last = page.checkpoint;
  assert.equal(last?.next, null);
  const hits = server.hits;
  const after = await Array.fromAsync(
    paginate(plainFetch, url, { strategy: cursor(), checkpoint: last }),
  );
  assert.deepEqual(after, []);
  assert.equal(server.hits, hits);
});

Deno.test("pages() checkpoint of a page cut by maxItems resumes with the rest of it", async () => {
  await using server = api();
  let saved: PaginationCheckpoint | undefined;
  const url = `${server.url}/numbers`;
  for await (const page of pages(plainFetch, url, { maxItems: 15 })) saved = page.checkpoint;
  assert.deepEqual({ ...saved, next: undefined }, {
    v: 1,
    page: 1,
    items: 15,
    skip: 5,
    next: undefined,
  });
  const rest = await Array.fromAsync(paginate<number>(plainFetch, url, { checkpoint: saved }));
  assert.deepEqual(rest, range(TOTAL).slice(15));
});

Deno.test("paginate() refuses a checkpoint that is not one, without echoing it", () => {
  for (
    const bad of [
      null,
      5,
      { v: 2, page: 0, items: 0, skip: 0, next: null },
      { v: 1, page: -1, items: 0, skip: 0, next: null },
      { v: 1, page: 0, items: 0, skip: 0, next: { url: "file:///etc/passwd" } },
      {
        v: 1,
        page: 0,
        items: 0,
        skip: 0,
        next: { url: "https://x.example/?token=s3cret", headers: { a: 1 } },
      },
    ]
  ) {
    assert.throws(
      () =>
        paginate(plainFetch, "https://api.example/x", {
          checkpoint: bad as unknown as PaginationCheckpoint,
        }),
      (error) => {
        assert.ok(error instanceof TypeError);
        assert.match(
          error.message,
          /^Cannot create paginate as 'checkpoint' must be a PaginationCheckpoint/,
        );
        assert.doesNotMatch(error.message, /s3cret|passwd/);
        return true;
      },
    );
  }
});
