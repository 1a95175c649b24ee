// The Worker the Durable Object tests run in workerd: it exports the object, and answers
// `POST /check` with the decision of a DistributedLimiter over DurableObjectStore(env.LIMITER).
import { DistributedLimiter } from "../../../src/store/mod.ts";
import {
  type DurableObjectNamespaceLike,
  DurableObjectStore,
} from "../../../src/store/durable_object/mod.ts";

export { FluxpoolLimiterObject } from "../../../src/store/durable_object/mod.ts";

interface Check {
  key: string;
  rate: number;
  burst: number;
  count?: number;
}

export default {
  async fetch(request: Request, env: { LIMITER: DurableObjectNamespaceLike }): Promise<Response> {
    const { key, rate, burst, count = 1 } = await request.json() as Check;
    const store = new DurableObjectStore(env.LIMITER);
    const limiter = new DistributedLimiter({ store, rate, burst, onStoreError: "deny" });
    let allowed = 0;
    let errors: string | undefined;
    for (let i = 0; i < count; i++) {
      const decision = await limiter.check(key);
      if (decision.allowed) allowed++;
      if (decision.source !== "store") errors ??= String(decision.storeError);
    }
    return Response.json({ allowed, errors });
  },
};
