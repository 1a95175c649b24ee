// Paginate/ApiTable errors quote page URLs unredacted: credential query values and user info
// reach PaginationError.message/.url and the HttpError cause, which the pool's own errors mask.
import { ApiTable, Pool } from "../../mod.ts";
import assert from "node:assert/strict";

const SECRET = "s3cr3t-T0KEN";

function chain(error: unknown): string {
  let text = "";
  for (
    let e = error as { message?: string; url?: string; cause?: unknown } | undefined, d = 0;
    e && d < 8;
    e = e.cause as typeof e, d++
  ) {
    text += `${(e as Error).name}: ${e.message} | url=${e.url}\n`;
  }
  return text;
}

Deno.test("pool.paginate() keeps a credential query value out of its errors", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("down", { status: 500 }),
  );
  const pool = new Pool({ baseUrl: `http://127.0.0.1:${server.addr.port}/`, retry: false });
  try {
    let caught: unknown;
    try {
      for await (const _ of pool.paginate(`/items?access_token=${SECRET}`)) { /* */ }
    } catch (e) {
      caught = e;
    }
    // The pool's own error for the same URL masks it:
    const plain = await pool.get(`/items?access_token=${SECRET}`).catch((e) => e);
    assert.ok(!chain(plain).includes(SECRET));
    assert.ok(!chain(caught).includes(SECRET), "the token is in the paginate error");
  } finally {
    await pool.close();
    await server.shutdown();
  }
});

Deno.test("ApiTable.get() keeps user info out of its errors", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("nope", { status: 403 }),
  );
  try {
    const table = new ApiTable<{ id: string }>(
      (input, init) => fetch(input, init),
      `http://svc:${SECRET}@127.0.0.1:${server.addr.port}/things`,
      { idColumn: "id", itemPath: "things/{id}" },
    );
    const error = await table.get("1").catch((e) => e);
    assert.ok(!chain(error).includes(SECRET), "the password is in the ApiTable error");
  } finally {
    await server.shutdown();
  }
});
