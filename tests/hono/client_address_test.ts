import assert from "node:assert/strict";
import { Hono } from "hono";
import { clientAddress } from "../../src/hono/mod.ts";

const SPOOFED = {
  "cf-connecting-ip": "203.0.113.66",
  "x-forwarded-for": "203.0.113.67",
  "x-real-ip": "203.0.113.68",
};

async function addressOf(request: Request, env?: unknown): Promise<string | undefined> {
  let seen: string | undefined = "not called";
  const app = new Hono();
  app.get("/", (c) => {
    seen = clientAddress(c);
    return c.text("ok");
  });
  await (await app.request(request, undefined, env)).body?.cancel();
  return seen;
}

const plain = () => new Request("http://app.test/", { headers: SPOOFED });

Deno.test("clientAddress() reads cf-connecting-ip only from a request Cloudflare handed over", async () => {
  const workers = Object.assign(plain(), { cf: { colo: "AMS" } });
  assert.equal(await addressOf(workers, { SOME_BINDING: "x" }), "203.0.113.66");
  const noHeader = Object.assign(new Request("http://app.test/"), { cf: {} });
  assert.equal(await addressOf(noHeader, {}), undefined);
});

Deno.test("clientAddress() reads the peer address under Deno, ignoring address headers", async () => {
  const info = { remoteAddr: { transport: "tcp", hostname: "192.0.2.10", port: 50000 } };
  assert.equal(await addressOf(plain(), info), "192.0.2.10");
});

Deno.test("clientAddress() reads Bun's requestIP() and Node's socket", async () => {
  const server = { requestIP: (_: Request) => ({ address: "192.0.2.20", family: "IPv4" }) };
  assert.equal(await addressOf(plain(), server), "192.0.2.20");
  assert.equal(await addressOf(plain(), { server }), "192.0.2.20");
  const node = { incoming: { socket: { remoteAddress: "::ffff:192.0.2.30" } }, outgoing: {} };
  assert.equal(await addressOf(plain(), node), "::ffff:192.0.2.30");
});

Deno.test("clientAddress() is undefined where the runtime reports no address", async () => {
  assert.equal(await addressOf(plain()), undefined);
  assert.equal(
    await addressOf(plain(), { remoteAddr: { transport: "unix", path: "/s" } }),
    undefined,
  );
  assert.equal(await addressOf(plain(), { requestIP: () => null }), undefined);
});
