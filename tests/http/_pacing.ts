// The Pool against one scenario upstream of bench/_pacing_upstream.ts on loopback, at test sizes:
// shared by the pacing tests.
import { Pool, type PoolOptions } from "../../mod.ts";
import {
  drive,
  type Measured,
  type Scenario,
  serveUpstream,
  Upstream,
} from "../../bench/_pacing_upstream.ts";

/** 40 per second, bursts of 5, 10 ms latency: what a scenario does not say. */
export const BASE: Omit<Scenario, "policy" | "dialect"> = {
  limit: 40,
  windowMs: 1000,
  burst: 5,
  latencyMs: 10,
};

/** Runs `n` requests from `callers` callers through a Pool with `options` against `scenario`. */
export async function poolRun(
  scenario: Partial<Scenario> & Pick<Scenario, "policy" | "dialect">,
  { n = 60, callers = 16, options = {} }: { n?: number; callers?: number; options?: PoolOptions } =
    {},
): Promise<Measured> {
  const upstream = new Upstream({ ...BASE, ...scenario });
  const server = serveUpstream(upstream);
  const pool = new Pool({ baseUrl: `http://127.0.0.1:${server.addr.port}`, ...options });
  try {
    return await drive(upstream, n, callers, async (i) => {
      const response = await pool.fetch(`/items?page=${i + 1}`);
      await response.body?.cancel();
      return response.ok;
    });
  } finally {
    await pool.close();
    await server.shutdown();
  }
}
