// The Worker the Durable Object tests run in workerd: it exports the object, and answers
// `POST /hammer` by checking one key through DistributedLimiter over DurableObjectStore
// (env.LIMITER) as fast as the object answers, for `durationMs`. Several such requests at once
// are several clients on one key, each deciding through the binding as a real Worker does.
import { DistributedLimiter } from "../../../src/store/mod.ts";
import {
  type DurableObjectNamespaceLike,
  DurableObjectStore,
} from "../../../src/store/durable_object/mod.ts";

export { FluxpoolLimiterObject } from "../../../src/store/durable_object/mod.ts";

interface Hammer {
  key: string;
  rate: number;
  burst: number;
  durationMs: number;
}

/** What one client got: its counts and the times of its first and last decision. */
export interface HammerResult {
  allowed: number;
  requests: number;
  firstError?: string;
  first: number;
  last: number;
}

export default {
  async fetch(request: Request, env: { LIMITER: DurableObjectNamespaceLike }): Promise<Response> {
    const { key, rate, burst, durationMs } = await request.json() as Hammer;
    const store = new DurableObjectStore(env.LIMITER);
    const limiter = new DistributedLimiter({
      store,
      rate,
      burst,
      timeoutMs: 10_000,
      onStoreError: "deny",
    });
    // workerd's clock moves on I/O: each decision is I/O, so Date.now() follows the real time.
    const first = Date.now();
    const result: HammerResult = { allowed: 0, requests: 0, first, last: first };
    while (Date.now() < first + durationMs) {
      const decision = await limiter.check(key);
      result.requests++;
      if (decision.allowed) result.allowed++;
      if (decision.source !== "store") result.firstError ??= String(decision.storeError);
      result.last = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return Response.json(result);
  },
};
