/**
 * The Durable Object a Worker exports for {@linkcode DurableObjectStore}: it decides every
 * request for its keys inside the object, one at a time, on its transactional storage.
 *
 * @module
 */

import type { Algorithm } from "../../limiter/algorithm.ts";
import { algorithmOf } from "./_protocol.ts";

/**
 * The part of a Durable Object's `ctx.storage` the object uses, typed structurally so that the
 * module type-checks without `@cloudflare/workers-types`. Cloudflare's `DurableObjectStorage`
 * fits.
 */
export interface DurableObjectStorageLike {
  /** Reads one value, `undefined` when there is none. */
  get(key: string): Promise<unknown>;
  /** Writes one value. */
  put(key: string, value: unknown): Promise<void>;
  /** Deletes keys (at most 128 at once); resolves with how many existed. */
  delete(keys: string[]): Promise<number>;
  /** Lists the values whose keys start with `prefix`, in key order. */
  list(options: { prefix: string }): Promise<Map<string, unknown>>;
  /** When the alarm is set to fire (ms since the epoch), `null` when none is. */
  getAlarm(): Promise<number | null>;
  /** Sets the alarm to fire at `time` (ms since the epoch). */
  setAlarm(time: number): Promise<void>;
}

/** The part of a Durable Object's `ctx` (`DurableObjectState`) the object uses. */
export interface DurableObjectStateLike {
  /** The object's transactional storage. */
  readonly storage: DurableObjectStorageLike;
}

// What the object keeps per key: the algorithm's state, a version the optimistic path compares,
// and when the key is back to full capacity on the object's clock, for the alarm.
interface Entry {
  s: unknown;
  v: number;
  e: number;
}

// The caller's own clock (tests) runs apart from the object's: keep such keys a minute longer.
const CALLER_TIME_MARGIN_MS = 60_000;
const PREFIX = "k:";
const MAX_CACHED_ALGORITHMS = 64;

class BadRequest extends Error {}

/**
 * The Durable Object behind {@linkcode DurableObjectStore}. Export it from the Worker under the
 * class name the binding names (`class_name` in `wrangler.toml`):
 *
 * ```toml
 * [[durable_objects.bindings]]
 * name = "LIMITER"
 * class_name = "FluxpoolLimiterObject"
 *
 * [[migrations]]
 * tag = "v1"
 * new_sqlite_classes = ["FluxpoolLimiterObject"]
 * ```
 *
 * Each request the store sends is decided inside the object, one after another: it reads the
 * key's state from `ctx.storage`, runs the algorithm (rebuilt from its name and config with the
 * same factory the caller used) and writes the new state before the next request starts, so a
 * decision is atomic and costs the caller one round trip. A key back to full capacity is
 * deleted by the object's alarm; the storage holds only keys in use.
 *
 * It answers only the store's requests; route nothing else to it.
 *
 * @example The Worker's module
 * ```ts ignore
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { DurableObjectStore } from "@fluxpool/fluxpool/durable-object";
 * export { FluxpoolLimiterObject } from "@fluxpool/fluxpool/durable-object";
 *
 * export default {
 *   async fetch(request: Request, env: { LIMITER: DurableObjectNamespace }) {
 *     const limiter = new DistributedLimiter({
 *       store: new DurableObjectStore(env.LIMITER),
 *       rate: 10,
 *       burst: 20,
 *     });
 *     const ip = request.headers.get("cf-connecting-ip") ?? "unknown";
 *     const decision = await limiter.check(ip);
 *     return new Response(decision.allowed ? "ok" : "slow down", {
 *       status: decision.allowed ? 200 : 429,
 *     });
 *   },
 * };
 * ```
 */
export class FluxpoolLimiterObject {
  #storage: DurableObjectStorageLike;
  // Decisions run one after another, whatever the runtime's input gates let through.
  #queue: Promise<unknown> = Promise.resolve();
  // deno-lint-ignore no-explicit-any
  #algorithms = new Map<string, Algorithm<any>>();
  // The alarm as last read or set; `undefined` until read.
  #alarm: number | null | undefined;

  /**
   * Called by the runtime.
   * @param ctx The object's state (`DurableObjectState`), whose storage holds the keys.
   * @param _env The Worker's bindings (unused).
   */
  constructor(ctx: DurableObjectStateLike, _env?: unknown) {
    this.#storage = ctx.storage;
  }

  /**
   * Answers one request of {@linkcode DurableObjectStore}: `POST /decide`, `/read`, `/write` or
   * `/reset` with a JSON body.
   * @param request The store's request.
   * @returns The JSON answer; 400 with `{ error }` for a request it cannot read.
   */
  async fetch(request: Request): Promise<Response> {
    const op = new URL(request.url).pathname;
    let body: Record<string, unknown>;
    try {
      body = await request.json();
      if (typeof body !== "object" || body === null) throw new BadRequest("body is not an object");
      if (typeof body.key !== "string") throw new BadRequest("'key' is not a string");
      const answer = await this.#serial(() => this.#run(op, body));
      return Response.json(answer);
    } catch (error) {
      const known = error instanceof BadRequest || error instanceof RangeError ||
        error instanceof TypeError || error instanceof SyntaxError;
      const message = (error as Error)?.message ?? String(error);
      return Response.json({ error: message }, { status: known ? 400 : 500 });
    }
  }

  /**
   * Called by the runtime when the alarm fires: deletes the keys back to full capacity, and
   * sets the alarm again for the earliest of the others.
   * @returns Nothing, once the storage is clean.
   */
  alarm(): Promise<void> {
    return this.#serial(async () => {
      const now = Date.now();
      const entries = await this.#storage.list({ prefix: PREFIX });
      const idle: string[] = [];
      let next = Infinity;
      for (const [name, entry] of entries) {
        const at = (entry as Entry).e;
        if (!(at > now)) idle.push(name);
        else if (at < next) next = at;
      }
      for (let i = 0; i < idle.length; i += 128) {
        await this.#storage.delete(idle.slice(i, i + 128));
      }
      this.#alarm = null;
      if (next !== Infinity) await this.#schedule(next);
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #run(op: string, body: Record<string, unknown>): Promise<unknown> {
    const key = PREFIX + body.key;
    const callerTime = typeof body.now === "number";
    const now = callerTime ? body.now as number : Date.now();
    const entry = await this.#storage.get(key) as Entry | undefined;
    switch (op) {
      case "/decide": {
        const before = entry?.s ?? undefined;
        const { state, decision } = this.#algorithm(body.algorithm)
          .decide(before, now, body.cost as number);
        // A denial keeps its state too when it differs: the state restated at `now` after the
        // clock stepped back (as every store does), else the key stays blocked for the step.
        if (body.consume !== false && (decision.allowed || state !== before)) {
          await this.#keep(key, entry, state, decision.resetAfterMs, callerTime);
        }
        return decision;
      }
      case "/read":
        return { state: entry?.s ?? null, version: entry?.v ?? 0, now };
      case "/write": {
        if ((entry?.v ?? 0) !== body.version) return { written: false };
        await this.#keep(key, entry, body.state ?? undefined, body.ttl as number, callerTime);
        return { written: true };
      }
      case "/reset":
        if (entry !== undefined) await this.#storage.delete([key]);
        return {};
    }
    throw new BadRequest(`unknown operation ${JSON.stringify(op)}`);
  }

  // Stores the state (or drops it when it is none or already back to full) with the time it
  // will be back to full, and makes sure an alarm will come to clean it up.
  async #keep(
    key: string,
    entry: Entry | undefined,
    state: unknown,
    ttl: number,
    callerTime: boolean,
  ): Promise<void> {
    if (typeof ttl !== "number" || !(ttl >= 0)) throw new BadRequest("'ttl' is not a number");
    if (state === undefined || ttl === 0) {
      if (entry !== undefined) await this.#storage.delete([key]);
      return;
    }
    const expires = Date.now() + ttl + (callerTime ? CALLER_TIME_MARGIN_MS : 0);
    await this.#storage.put(key, { s: state, v: (entry?.v ?? 0) + 1, e: expires });
    await this.#schedule(expires);
  }

  async #schedule(at: number): Promise<void> {
    if (this.#alarm === undefined) this.#alarm = await this.#storage.getAlarm();
    if (this.#alarm !== null) return;
    await this.#storage.setAlarm(at);
    this.#alarm = at;
  }

  // deno-lint-ignore no-explicit-any
  #algorithm(spec: unknown): Algorithm<any> {
    const id = JSON.stringify(spec);
    let algorithm = this.#algorithms.get(id);
    if (algorithm === undefined) {
      algorithm = algorithmOf(spec);
      if (this.#algorithms.size >= MAX_CACHED_ALGORITHMS) this.#algorithms.clear();
      this.#algorithms.set(id, algorithm);
    }
    return algorithm;
  }
}
