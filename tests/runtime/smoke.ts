// The portable smoke script of the runtime matrix. It uses only web standards and the module's
// public API, starts nothing, and reads nothing from its runtime: the harness
// (tests/runtime/matrix_test.ts) bundles it with esbuild, runs the bundle in Deno, Node, Bun and
// workerd, and hands it the URL of a loopback server that the harness started.
import { FluxLimiter } from "../../mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

/** What one runtime reports; the harness compares it with {@linkcode expected}. */
export interface SmokeReport {
  limiter: { remaining: number[]; denied: { allowed: boolean; retryAfterMs: number } };
  afterWait: boolean;
  fetch: { status: number; body: string };
}

/** Runs every check against the server at `baseUrl`. */
export async function smoke(baseUrl: string): Promise<SmokeReport> {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 10, burst: 3, clock });
  const remaining = [1, 2, 3].map(() => limiter.check("k").remaining);
  const { allowed, retryAfterMs } = limiter.check("k");
  clock.advance(100);
  const afterWait = limiter.check("k").allowed;

  const res = await fetch(new URL("/hello", baseUrl));
  return {
    limiter: { remaining, denied: { allowed, retryAfterMs } },
    afterWait,
    fetch: { status: res.status, body: await res.text() },
  };
}

/** The report every runtime must produce. */
export const expected: SmokeReport = {
  limiter: { remaining: [2, 1, 0], denied: { allowed: false, retryAfterMs: 100 } },
  afterWait: true,
  fetch: { status: 200, body: "hello" },
};
