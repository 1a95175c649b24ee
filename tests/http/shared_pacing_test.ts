// Shared server pacing (issue 15 item 2): several pools, in one process or in four, against one
// server's limit. The cross-process tests run the upstream of bench/pacing_report.ts in its own
// process and four Deno processes with a Pool each.

import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { MemoryStore } from "../../src/store/memory_store.ts";
import type { Scenario } from "../../bench/_pacing_upstream.ts";
import { serviceTest } from "../store/_services.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();

/** The upstream of the pacing bench, in its own process. */
async function startUpstream(): Promise<{ base: string; close(): Promise<void> }> {
  const child = new Deno.Command(deno, {
    args: ["run", "--allow-net", `${ROOT}bench/_pacing_server.ts`],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return {
    base: `http://127.0.0.1:${Number.parseInt(value!, 10)}`,
    async close() {
      await child.stdin.close();
      await child.status;
    },
  };
}

interface Fleet {
  accepted: number;
  rejected: number;
  /** Rejected answers over all answers. */
  rejectShare: number;
  /** Accepted answers per second, from the start signal to the last pool done. */
  rate: number;
}

/** Four processes, each with a Pool sending `n` requests, started together. */
async function runFleet(mode: string, scenario: Scenario, n: number): Promise<Fleet> {
  const upstream = await startUpstream();
  try {
    await (await fetch(`${upstream.base}/__scenario`, {
      method: "POST",
      body: JSON.stringify(scenario),
    })).body?.cancel();
    const prefix = `fluxpool-test:pacing:${crypto.randomUUID()}:`;
    const children = Array.from({ length: 4 }, () =>
      new Deno.Command(deno, {
        args: [
          "run",
          "-A",
          `${ROOT}tests/http/_shared_pacing_client.ts`,
          upstream.base,
          String(n),
          "8",
          mode,
          prefix,
        ],
        cwd: ROOT,
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn());
    const lines = children.map((child) =>
      child.stdout.pipeThrough(new TextDecoderStream()).getReader()
    );
    // Each prints "ready" once its modules are loaded: start them together.
    for (const reader of lines) assert.equal((await reader.read()).value?.trim(), "ready");
    const writers = children.map((child) => child.stdin.getWriter());
    const startAt = Date.now();
    await Promise.all(writers.map((w) => w.write(new TextEncoder().encode("go\n"))));
    const timeout = setTimeout(() => children.forEach((c) => c.kill()), 60_000);
    const results = [];
    try {
      for (const reader of lines) {
        let text = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        results.push(JSON.parse(text.trim()) as { ok: number; endAt: number });
      }
      await Promise.all(writers.map((w) => w.close()));
      await Promise.all(children.map((c) => c.status));
    } finally {
      clearTimeout(timeout);
    }
    const stats = await (await fetch(`${upstream.base}/__stats`)).json();
    const endAt = Math.max(...results.map((r) => r.endAt));
    const { accepted, rejected } = stats as { accepted: number; rejected: number };
    return {
      accepted,
      rejected,
      rejectShare: rejected / Math.max(1, accepted + rejected),
      rate: accepted / ((endAt - startAt) / 1000),
    };
  } finally {
    await upstream.close();
  }
}

const FIFTY: Scenario = {
  policy: "gcra",
  dialect: "draft11",
  limit: 50,
  windowMs: 1000,
  burst: 5,
  latencyMs: 20,
};

await serviceTest(
  "redis",
  "Pool serverPacing: { store: RedisStore } keeps four processes within one server's 50 req/s",
  async () => {
    const shared = await runFleet("redis", FIFTY, 60);
    const alone = await runFleet("local", FIFTY, 60);
    console.log({ shared, alone });
    assert.ok(shared.rejectShare <= 0.02, `rejected ${shared.rejectShare}`);
    assert.ok(shared.rate >= 45, `rate ${shared.rate}`);
    assert.ok(alone.rejectShare > 0.2, `alone rejected ${alone.rejectShare}`);
  },
);

void Pool;
void MemoryStore;
