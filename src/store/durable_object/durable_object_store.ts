/**
 * A {@linkcode StateStore} over a Durable Object namespace: every decision is one request to the
 * key's object, decided atomically inside it.
 *
 * @module
 */

import { storeFailure } from "../_store_failure.ts";
import type { Algorithm } from "../../limiter/algorithm.ts";
import type { Clock } from "../../core/clock.ts";
import type { RateLimitDecision } from "../../limiter/decision.ts";
import { integer } from "../../core/validate.ts";
import { withDeadline } from "../../core/deadline.ts";
import type { StateStore, StoreDecideOptions } from "../state_store.ts";
import { StoreError } from "../store_error.ts";
import { checkDecision, CHECKS_OWN_DECISIONS, show } from "../_decision_check.ts";
import { optimisticDecide } from "../_optimistic.ts";
import { optionalClock, optionsOf, withMethods } from "../_store_options.ts";
import { type AlgorithmSpec, ORIGIN, specOf } from "./_protocol.ts";

/** The part of a `Response` a {@linkcode DurableObjectStore} reads. */
export interface DurableObjectResponseLike {
  /** The HTTP status. */
  readonly status: number;
  /** The body as text. */
  text(): Promise<string>;
}

/** The part of a Durable Object stub (`DurableObjectStub`) a {@linkcode DurableObjectStore} uses. */
export interface DurableObjectStubLike {
  /** Sends a request to the object. */
  fetch(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string },
  ): Promise<DurableObjectResponseLike>;
}

/**
 * The part of a Durable Object namespace binding (`env.LIMITER`, a `DurableObjectNamespace`) a
 * {@linkcode DurableObjectStore} uses, typed structurally so that the module type-checks without
 * `@cloudflare/workers-types`.
 */
export interface DurableObjectNamespaceLike {
  /** The id of the object named `name`. */
  idFromName(name: string): unknown;
  /** The stub of the object `id`. */
  get(id: unknown): DurableObjectStubLike;
}

/** Options for {@linkcode DurableObjectStore}. */
export interface DurableObjectStoreOptions {
  /**
   * Decide on this clock instead of the object's own. Only for tests: with the object's time,
   * every caller agrees.
   */
  clock?: Clock;
  /**
   * For algorithms the object cannot rebuild (your own `Algorithm`, decided optimistically in
   * the caller): how many times a decision is retried when another writer changed the key in
   * between.
   * @default {16}
   */
  maxAttempts?: number;
}

const NAME = "DurableObjectStore";
const NAMESPACE_RULE = "a Durable Object namespace with idFromName() and get()";

/**
 * A {@linkcode StateStore} over a Durable Object namespace, for one exact limit across every
 * Cloudflare location (the Workers rate-limit binding counts per location). The Worker exports
 * {@linkcode FluxpoolLimiterObject} and binds it (see its documentation for `wrangler.toml`).
 *
 * Keys map to objects one to one: the object named after the full key (prefix included) decides
 * all of its requests, so keys spread over many objects and never contend with each other; an
 * object's throughput (about a thousand small requests a second) bounds one key's. Each
 * decision is one `fetch` to that object: it rebuilds the algorithm from `name` and `config`,
 * decides on its storage and answers. A `multiLimit` is decided whole in one object. An
 * algorithm of your own (whose code cannot travel) is decided in the caller between a read and
 * a compare-and-set in the object, retried on contention: two round trips or more.
 *
 * @example In a Worker
 * ```ts ignore
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { DurableObjectStore } from "@fluxpool/fluxpool/durable-object";
 * export { FluxpoolLimiterObject } from "@fluxpool/fluxpool/durable-object";
 *
 * export default {
 *   async fetch(request: Request, env: { LIMITER: DurableObjectNamespace }) {
 *     const store = new DurableObjectStore(env.LIMITER);
 *     const limiter = new DistributedLimiter({ store, rate: 50, burst: 10, timeoutMs: 500 });
 *     const decision = await limiter.check(request.headers.get("cf-connecting-ip") ?? "");
 *     return new Response(null, { status: decision.allowed ? 204 : 429 });
 *   },
 * };
 * ```
 */
export class DurableObjectStore implements StateStore {
  #namespace: DurableObjectNamespaceLike;
  #clock: Clock | undefined;
  #maxAttempts: number;
  // deno-lint-ignore no-explicit-any
  #specs = new WeakMap<Algorithm<any>, AlgorithmSpec | null>();

  /**
   * Creates a store over a namespace.
   * @param namespace The binding of {@linkcode FluxpoolLimiterObject} (`env.LIMITER`).
   * @param options A test clock, and the retry bound of the optimistic path.
   * @throws {TypeError} when `namespace` lacks `idFromName()` or `get()`, or an option has the
   * wrong type.
   * @throws {RangeError} when `maxAttempts` is not an integer >= 1.
   */
  constructor(namespace: DurableObjectNamespaceLike, options?: DurableObjectStoreOptions) {
    const { clock, maxAttempts = 16 } = optionsOf(NAME, options);
    this.#namespace = withMethods(
      NAME,
      "namespace",
      namespace,
      ["idFromName", "get"],
      NAMESPACE_RULE,
    );
    this.#clock = optionalClock(NAME, clock);
    this.#maxAttempts = integer(NAME, "maxAttempts", maxAttempts, 1);
    // The object's reply goes through checkDecision() in decide().
    CHECKS_OWN_DECISIONS.register(this, (algorithm) => this.#spec(algorithm) !== undefined);
  }

  // The algorithm as the object reads it, worked out once per algorithm (null: none).
  // deno-lint-ignore no-explicit-any
  #spec(algorithm: Algorithm<any>): AlgorithmSpec | undefined {
    let spec = this.#specs.get(algorithm);
    if (spec === undefined) {
      spec = specOf(algorithm) ?? null;
      this.#specs.set(algorithm, spec);
    }
    return spec ?? undefined;
  }

  /**
   * Decides a request for `key` in one request to its object; see {@linkcode StateStore.decide}.
   * @param key The full key; it names the object.
   * @param algorithm The algorithm: decided in the object for the built-in ones and multi-limits
   * of them, optimistically in the caller for any other.
   * @param cost Units the request costs.
   * @param options Whether to consume, and a signal (the store stops waiting when it aborts).
   * @returns The decision.
   * @throws {StoreError} when the object fails or answers nonsense, or other writers won
   * `maxAttempts` times in a row.
   */
  async decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions = {},
  ): Promise<RateLimitDecision> {
    options.signal?.throwIfAborted();
    const spec = this.#spec(algorithm);
    if (spec === undefined) return this.#optimistic(key, algorithm, cost, options);
    const consume = options.consume !== false;
    const now = this.#clock?.now();
    const reply = await this.#call(key, "decide", { algorithm: spec, cost, consume, now }, options);
    return checkDecision(reply, algorithm, NAME);
  }

  /**
   * Forgets `key`.
   * @param key The full key.
   * @param options A signal.
   * @returns Nothing, once the object deleted the key.
   * @throws {StoreError} when the object fails.
   */
  async reset(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.#call(key, "reset", {}, options);
  }

  #optimistic(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions,
  ): Promise<RateLimitDecision> {
    return optimisticDecide<number>(
      {
        read: async () => {
          const reply = await this.#call(key, "read", { now: this.#clock?.now() }, options);
          const { state, version, now } = (reply ?? {}) as Record<string, unknown>;
          if (typeof version !== "number" || typeof now !== "number") {
            throw new StoreError(`${NAME} got an invalid reply: ${show(reply)}`, NAME);
          }
          return { state: state ?? undefined, token: version, now };
        },
        write: async (version, state, ttl) => {
          const now = this.#clock?.now();
          const reply = await this.#call(key, "write", { version, state, ttl, now }, options);
          return (reply as { written?: unknown })?.written === true;
        },
      },
      algorithm,
      cost,
      options,
      this.#maxAttempts,
      NAME,
      key,
    );
  }

  // One request to the key's object; its body read whole even when the caller stopped waiting.
  #call(
    key: string,
    op: string,
    body: Record<string, unknown>,
    options: { signal?: AbortSignal },
  ): Promise<unknown> {
    return withDeadline(
      async () => {
        let status: number;
        let text: string;
        try {
          const stub = this.#namespace.get(this.#namespace.idFromName(key));
          const response = await stub.fetch(`${ORIGIN}/${op}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ ...body, key }),
          });
          status = response.status;
          text = await response.text();
        } catch (error) {
          throw storeFailure(NAME, error);
        }
        let reply: unknown;
        try {
          reply = JSON.parse(text);
        } catch {
          throw new StoreError(`${NAME} got an invalid reply (${status}): ${show(text)}`, NAME);
        }
        if (status !== 200) {
          const error = (reply as { error?: unknown })?.error ?? reply;
          throw new StoreError(
            `${NAME} failed: the object answered ${status}: ${show(error)}`,
            NAME,
          );
        }
        return reply;
      },
      Infinity,
      options.signal,
    );
  }
}
