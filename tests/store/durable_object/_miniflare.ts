// Runs tests/store/durable_object/_worker.ts in real workerd through Miniflare, with the
// FluxpoolLimiterObject bound as LIMITER on Miniflare's (real, in-memory) Durable Object storage.
import { fileURLToPath } from "node:url";
import type { DurableObjectNamespaceLike } from "../../../src/store/durable_object/mod.ts";
import { bundle, tempDir } from "../../runtime/_bundle.ts";
import type { Miniflare } from "miniflare";
import { disposeMiniflare, startMiniflare } from "../../runtime/_miniflare.ts";

const worker = fileURLToPath(new URL("./_worker.ts", import.meta.url));

/** A running Worker: `mf` to dispatch to, `namespace` to use the binding from Deno. */
export interface Workerd extends AsyncDisposable {
  mf: Miniflare;
  namespace: DurableObjectNamespaceLike;
}

/** Bundles the test Worker and starts it in workerd. */
export async function startWorkerd(): Promise<Workerd> {
  await using dir = await tempDir();
  await bundle(worker, `${dir.path}/worker.mjs`);
  const mf = await startMiniflare({
    modules: true,
    script: await Deno.readTextFile(`${dir.path}/worker.mjs`),
    compatibilityDate: "2025-01-01",
    durableObjects: { LIMITER: "FluxpoolLimiterObject" },
    cf: false,
  });
  const namespace = await mf.getDurableObjectNamespace("LIMITER");
  return {
    mf,
    namespace: namespace as unknown as DurableObjectNamespaceLike,
    [Symbol.asyncDispose]: () => disposeMiniflare(mf),
  };
}
