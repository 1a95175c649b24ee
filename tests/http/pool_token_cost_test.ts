// A request's `cost` in tokens, spent against the token budgets of AI APIs (OpenAI's
// `x-ratelimit-*-tokens`, Anthropic's `anthropic-ratelimit-*-tokens-*`), through the Pool against
// loopback servers that enforce both a request and a token budget per one-second window.
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { serve, type TestServer } from "./_server.ts";

const WINDOW_MS = 1000;

interface Budgets {
  requests: number;
  tokens: number;
}

interface AiServer extends TestServer {
  /** Answers per status. */
  statuses: Map<number, number>;
}

// OpenAI's durations: `850ms` below a second, `1s`, `1.25s`, `6m0s`.
function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const s = Math.ceil(ms) / 1000;
  return s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${s}s`;
}

// Fixed windows aligned on the wall clock's seconds (Anthropic's resets are whole seconds).
// A request spends one request and the tokens it sends in `x-tokens` (its actual usage), and is
// refused with a 429 when either is spent.
function aiServer(dialect: "openai" | "anthropic", limits: Budgets): AiServer {
  let window = -1;
  let spent: Budgets = { requests: 0, tokens: 0 };
  const statuses = new Map<number, number>();
  const server = serve((request) => {
    const now = Date.now();
    const current = Math.floor(now / WINDOW_MS);
    if (current !== window) {
      window = current;
      spent = { requests: 0, tokens: 0 };
    }
    const used = Number(request.headers.get("x-tokens") ?? "0");
    const allowed = spent.requests + 1 <= limits.requests && spent.tokens + used <= limits.tokens;
    if (allowed) {
      spent.requests++;
      spent.tokens += used;
    }
    const end = (window + 1) * WINDOW_MS;
    const headers = new Headers({ "date": new Date(now).toUTCString() });
    for (const unit of ["requests", "tokens"] as const) {
      const left = String(limits[unit] - spent[unit]);
      if (dialect === "openai") {
        headers.set(`x-ratelimit-limit-${unit}`, String(limits[unit]));
        headers.set(`x-ratelimit-remaining-${unit}`, left);
        headers.set(`x-ratelimit-reset-${unit}`, goDuration(end - now));
      } else {
        const name = unit === "tokens" ? "input-tokens" : unit;
        headers.set(`anthropic-ratelimit-${name}-limit`, String(limits[unit]));
        headers.set(`anthropic-ratelimit-${name}-remaining`, left);
        headers.set(
          `anthropic-ratelimit-${name}-reset`,
          new Date(end).toISOString().replace(/\.\d+Z$/, "Z"),
        );
      }
    }
    const status = allowed ? 200 : 429;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (!allowed && dialect === "openai") {
      headers.set("retry-after-ms", String(end - now));
    } else if (!allowed) headers.set("retry-after", String(Math.ceil((end - now) / 1000)));
    return new Response(allowed ? "ok" : "rate limited", { status, headers });
  });
  return { ...server, statuses };
}

// `total` requests from `callers` concurrent callers, each declaring `cost` and using `used`.
async function batch(
  server: AiServer,
  total: number,
  callers: number,
  request: { cost?: number; used: number },
): Promise<{ ms: number; ok: number }> {
  const pool = new Pool({ baseUrl: server.url, retry: { attempts: 20 } });
  let issued = 0, ok = 0;
  const started = performance.now();
  async function caller(): Promise<void> {
    while (issued < total) {
      issued++;
      const response = await pool.fetch("/v1/messages", {
        method: "POST",
        body: "{}",
        headers: { "x-tokens": String(request.used) },
        cost: request.cost,
        signal: AbortSignal.timeout(20_000),
      });
      if (response.ok) ok++;
      await response.body?.cancel();
    }
  }
  try {
    await Promise.all(Array.from({ length: callers }, caller));
  } finally {
    await pool.close();
  }
  return { ms: performance.now() - started, ok };
}

for (const dialect of ["openai", "anthropic"] as const) {
  Deno.test(`Pool holds a batch whose token cost exceeds the ${dialect} token budget instead of drawing 429s`, async () => {
    // 2000 tokens and 20 requests per second; 15 requests of 400 tokens (declared 500): the
    // tokens allow 5 a second, so the batch needs three windows and must not be refused.
    const server = aiServer(dialect, { requests: 20, tokens: 2000 });
    try {
      const { ms, ok } = await batch(server, 15, 8, { cost: 500, used: 400 });
      assert.equal(ok, 15);
      assert.equal(server.statuses.get(429) ?? 0, 0, `429s: ${server.statuses.get(429)}`);
      // Three windows of tokens: at least one boundary crossed (the first window is partial).
      assert.ok(ms >= WINDOW_MS, `took ${ms.toFixed(0)} ms`);
      assert.ok(ms < 10_000, `took ${ms.toFixed(0)} ms`);
    } finally {
      await server.close();
    }
  });
}

Deno.test("Pool without a cost sends such a batch into the token budget (the server is tight)", async () => {
  const server = aiServer("openai", { requests: 20, tokens: 2000 });
  try {
    // A POST is not retried: the refused ones come back as 429s.
    const { ok } = await batch(server, 15, 8, { used: 400 });
    assert.ok(ok < 15 && (server.statuses.get(429) ?? 0) > 0, "no 429 without a cost");
  } finally {
    await server.close();
  }
});

Deno.test("Pool with a token cost still paces on the request budget", async () => {
  // 10 requests per second, tokens to spare: 25 requests of 10 tokens need three windows.
  const server = aiServer("openai", { requests: 10, tokens: 100_000 });
  try {
    const { ms, ok } = await batch(server, 25, 8, { cost: 10, used: 10 });
    assert.equal(ok, 25);
    assert.equal(server.statuses.get(429) ?? 0, 0, `429s: ${server.statuses.get(429)}`);
    assert.ok(ms >= WINDOW_MS, `took ${ms.toFixed(0)} ms`);
    assert.ok(ms < 10_000, `took ${ms.toFixed(0)} ms`);
  } finally {
    await server.close();
  }
});
