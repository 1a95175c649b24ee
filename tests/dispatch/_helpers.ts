// Shared by the Dispatcher tests: handlers whose jobs finish only when the test says so.
import type { DispatchContext } from "../../src/dispatch/mod.ts";

/** A job that has reached the handler. */
export interface Gate {
  req: number;
  ctx: DispatchContext;
  /** Resolves the job with its request, or rejects it with `error`. */
  open(error?: unknown): void;
  settled: boolean;
}

/** A handler that parks every job until its gate opens; it honours the job's signal. */
export function gated(): {
  gates: Gate[];
  handler: (req: number, ctx: DispatchContext) => Promise<number>;
} {
  const gates: Gate[] = [];
  const handler = (req: number, ctx: DispatchContext): Promise<number> =>
    new Promise((resolve, reject) => {
      const onAbort = () => gate.open(ctx.signal.reason);
      const gate: Gate = {
        req,
        ctx,
        settled: false,
        open(error) {
          if (gate.settled) return;
          gate.settled = true;
          ctx.signal.removeEventListener("abort", onAbort);
          if (error === undefined) resolve(req);
          else reject(error);
        },
      };
      gates.push(gate);
      ctx.signal.addEventListener("abort", onAbort);
    });
  return { gates, handler };
}

/** Opens every gate that has not settled yet. */
export function openAll(gates: Gate[]): void {
  for (const gate of gates) gate.open();
}

/** Lets every pending microtask and timer callback run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Resolves with how a promise settled, without throwing. */
export function outcome<T>(promise: Promise<T>): Promise<["ok", T] | ["error", unknown]> {
  return promise.then((value) => ["ok", value] as ["ok", T], (error) => ["error", error]);
}
