// A checkpoint passed back by the caller with `items` above `maxItems` makes `room` negative in
// PageEngine.#deliver (src/paginate/_page_engine.ts): items.slice(0, room) then hands out all but
// |room| items of the page instead of none, so maxItems no longer bounds the stream.
import { paginate } from "../../mod.ts";
import assert from "node:assert/strict";

Deno.test("paginate() hands out no item past maxItems when resuming from a checkpoint", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => Response.json(Array.from({ length: 100 }, (_, i) => i)),
  );
  const url = `http://127.0.0.1:${server.addr.port}/items?page=5`;
  try {
    const items = await Array.fromAsync(paginate(fetch, url, {
      maxItems: 10,
      maxPages: 6,
      checkpoint: { v: 1, page: 5, items: 12, next: { url }, skip: 0 },
    }));
    assert.equal(items.length, 0);
  } finally {
    await server.shutdown();
  }
});
