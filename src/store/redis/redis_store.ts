/**
 * A {@linkcode StateStore} on Redis: every decision is one Lua script on one key.
 *
 * @module
 */

import { storeFailure } from "../_store_failure.ts";
import type { Algorithm } from "../../limiter/algorithm.ts";
import type { Clock } from "../../core/clock.ts";
import type { RateLimitDecision } from "../../limiter/decision.ts";
import type { StateStore, StoreDecideOptions } from "../state_store.ts";
import { StoreError } from "../store_error.ts";
import { nativeParams, readDecision } from "../_native.ts";
import { GCRA_SCRIPT, REDIS_SCRIPTS, RESET_SCRIPT } from "./redis_scripts.ts";
import { COMPARE_AND_SET_SCRIPT, READ_SCRIPT } from "./redis_cas_scripts.ts";
import { optimisticDecide } from "../_optimistic.ts";
import { checkDecision, CHECKS_OWN_DECISIONS } from "../_decision_check.ts";
import { SLACK } from "../../limiter/_slack.ts";
import { READS_SIGNAL_ON_ENTRY } from "../_signal_use.ts";
import { integer } from "../../core/validate.ts";
import { optionalClock, optionsOf, shown, withMethods } from "../_store_options.ts";

/**
 * The two commands a {@linkcode RedisStore} needs, in the shape `@upstash/redis` has natively:
 * `evalsha(sha, keys, args)` and `eval(script, keys, args)`. Wrap other clients with
 * {@linkcode fromIoredis} or {@linkcode fromNodeRedis}. The arrays are the store's, which may
 * pass the same (frozen) one again: read them, do not change them.
 */
export interface RedisScriptClient {
  /** Runs a script already loaded in Redis; rejects with a `NOSCRIPT` error when it is not. */
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  /** Runs (and caches in Redis) a script given in full. */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
}

/** The part of an ioredis client {@linkcode fromIoredis} uses. */
export interface IoredisLike {
  /** The client's options, which {@linkcode fromIoredis} checks when they are there. */
  readonly options?: {
    readonly enableOfflineQueue?: boolean;
    readonly autoResendUnfulfilledCommands?: boolean;
    /** A `Cluster`'s: how long before a command cut off by a dropped connection is resent. */
    readonly retryDelayOnFailover?: number;
    /** A `Cluster`'s: how long before a command refused with `CLUSTERDOWN` is resent. */
    readonly retryDelayOnClusterDown?: number;
    /** A `Cluster`'s: when set, node connections reconnect (and may resend). */
    readonly clusterNodeRetryStrategy?: unknown;
    /** A `Cluster`'s options for its node connections. */
    readonly redisOptions?: { readonly autoResendUnfulfilledCommands?: boolean } | undefined;
  };
  /** `EVALSHA sha numkeys ...keys ...args`. */
  evalsha(sha: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `EVAL script numkeys ...keys ...args`. */
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/** The part of a node-redis (v4 and later) client or cluster {@linkcode fromNodeRedis} uses. */
export interface NodeRedisLike {
  /** The client's options, which {@linkcode fromNodeRedis} checks when they are there. */
  readonly options?: { readonly disableOfflineQueue?: boolean } | undefined;
  /**
   * A cluster's options (`createCluster()`), whose `defaults` every node client is created
   * with: {@linkcode fromNodeRedis} checks them when they are there.
   */
  readonly _options?: {
    readonly rootNodes?: unknown;
    readonly defaults?: { readonly disableOfflineQueue?: boolean } | undefined;
  };
  /** `EVALSHA` with keys and arguments. */
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** `EVAL` with keys and arguments. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * Adapts an ioredis client (`new Redis()` or a `Cluster`) for {@linkcode RedisStore}.
 *
 * The client must not queue or resend commands: by default ioredis keeps the commands sent
 * while Redis is unreachable (and those in flight when the connection dropped) and sends them
 * once it reconnects. A decision that timed out was answered by `onStoreError` long before;
 * its replay would charge the key a second time. Create the client with
 * `enableOfflineQueue: false` and `autoResendUnfulfilledCommands: false`; a decision made while
 * Redis is down then fails at once and `onStoreError` decides it, once.
 *
 * A `Cluster` resends on its own: create it with `enableOfflineQueue: false`,
 * `retryDelayOnFailover: 0` (or a command cut off by a dropped node connection is sent again
 * 100 ms later, after the fallback answered) and `retryDelayOnClusterDown: 0`; and with
 * `redisOptions: { autoResendUnfulfilledCommands: false }` when it has a
 * `clusterNodeRetryStrategy`. `MOVED` and `ASK` redirections are still followed (the command did
 * not run). One limit of ioredis itself: the first `ASK` to a master the cluster client has not
 * yet connected to fails, and `onStoreError` decides that one decision.
 *
 * @param client The ioredis client.
 * @returns The narrow client.
 * @throws {TypeError} when the client lacks `evalsha`/`eval`, or its options queue or resend
 * commands.
 *
 * @example Usage
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { fromIoredis, RedisStore } from "@fluxpool/fluxpool/redis";
 * const redis = new Redis("redis://127.0.0.1:6379", {
 *   enableOfflineQueue: false,
 *   autoResendUnfulfilledCommands: false,
 *   lazyConnect: true,
 * });
 * redis.on("error", (error) => console.warn("redis:", error.message));
 * await redis.connect();
 * const store = new RedisStore(fromIoredis(redis));
 * // ... and on shutdown:
 * await redis.quit();
 * ```
 */
export function fromIoredis(client: IoredisLike): RedisScriptClient {
  const owner = "fromIoredis()";
  withMethods(owner, "client", client, ["evalsha", "eval"], "an ioredis client");
  const options = client.options;
  if (options !== undefined && options !== null) {
    if (options.enableOfflineQueue !== false) {
      replays(owner, "enableOfflineQueue", false, options.enableOfflineQueue);
    }
    const cluster = (client as { isCluster?: unknown }).isCluster === true;
    if (cluster) {
      assertClusterDoesNotResend(owner, options);
    } else if (options.autoResendUnfulfilledCommands !== false) {
      replays(owner, "autoResendUnfulfilledCommands", false, options.autoResendUnfulfilledCommands);
    }
  }
  return {
    evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
  };
}

// ioredis's Cluster retries a command after a delay on a dropped connection (which may have
// run it) and on CLUSTERDOWN: by then the limiter's fallback may have answered the decision.
function assertClusterDoesNotResend(owner: string, options: NonNullable<IoredisLike["options"]>) {
  if (options.retryDelayOnFailover !== 0) {
    replays(owner, "retryDelayOnFailover", 0, options.retryDelayOnFailover);
  }
  if (options.retryDelayOnClusterDown !== 0) {
    replays(owner, "retryDelayOnClusterDown", 0, options.retryDelayOnClusterDown);
  }
  const resend = options.redisOptions?.autoResendUnfulfilledCommands;
  if (typeof options.clusterNodeRetryStrategy === "function" && resend !== false) {
    replays(owner, "redisOptions.autoResendUnfulfilledCommands", false, resend);
  }
}

/**
 * Adapts a node-redis client (`createClient()` from `redis` v4 or later) or cluster
 * (`createCluster()`) for {@linkcode RedisStore}.
 *
 * The client must be created with `disableOfflineQueue: true` (a cluster with
 * `defaults: { disableOfflineQueue: true }`): otherwise node-redis keeps the commands sent
 * while Redis is unreachable and sends them once it reconnects, charging keys whose decisions
 * `onStoreError` already answered. node-redis also throws an `error` event nobody listens to:
 * give the client a listener.
 *
 * @param client The connected node-redis client.
 * @returns The narrow client.
 * @throws {TypeError} when the client lacks `evalSha`/`eval`, or queues commands offline.
 *
 * @example Usage
 * ```ts ignore
 * import { createClient } from "redis";
 * import { fromNodeRedis, RedisStore } from "@fluxpool/fluxpool/redis";
 * const client = createClient({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true });
 * client.on("error", (error) => console.warn("redis:", error.message));
 * const store = new RedisStore(fromNodeRedis(await client.connect()));
 * // ... and on shutdown:
 * client.destroy();
 * ```
 */
export function fromNodeRedis(client: NodeRedisLike): RedisScriptClient {
  const owner = "fromNodeRedis()";
  withMethods(owner, "client", client, ["evalSha", "eval"], "a node-redis client");
  const options = client.options;
  if (options !== undefined && options !== null && options.disableOfflineQueue !== true) {
    replays(owner, "disableOfflineQueue", true, options.disableOfflineQueue);
  }
  // A cluster has no `options`: its node clients take `_options.defaults`.
  const cluster = client._options;
  if (
    (options === undefined || options === null) && cluster?.rootNodes !== undefined &&
    cluster.defaults?.disableOfflineQueue !== true
  ) {
    replays(owner, "defaults.disableOfflineQueue", true, cluster.defaults?.disableOfflineQueue);
  }
  return {
    evalsha: (sha, keys, args) => client.evalSha(sha, { keys, arguments: args }),
    eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
  };
}

/** Options for {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  /**
   * Decide on this clock instead of Redis's own `TIME`. Only for tests: with the server's time,
   * clients with skewed clocks still agree.
   */
  clock?: Clock;
  /**
   * For algorithms without a Lua version (decided optimistically in the client): how many times
   * a decision is retried when another writer changed the key in between.
   * @default {16}
   */
  maxAttempts?: number;
}

const NAME = "RedisStore";

// A queued command runs after its decision timed out and was answered by the fallback.
function replays(owner: string, name: string, safe: boolean | number, value: unknown): never {
  throw new TypeError(
    `Cannot create ${owner} as the client's '${name}' must be ${safe}, or a decision that timed out while Redis was unreachable is replayed when it is back and charges the key again: received ${
      shown(value)
    }`,
  );
}
const CLIENT_RULE = "a client with evalsha(sha, keys, args) and eval(script, keys, args)";

/**
 * A {@linkcode StateStore} on Redis. Each decision is one `EVALSHA` of the algorithm's Lua
 * script (falling back to `EVAL` when Redis answers `NOSCRIPT`) on one key, atomic and timed by
 * Redis's own clock; the key expires when it is back to full capacity (a GCRA key at the end of
 * that second).
 *
 * @example With ioredis
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { fromIoredis, RedisStore } from "@fluxpool/fluxpool/redis";
 *
 * const redis = new Redis("redis://127.0.0.1:6379", {
 *   enableOfflineQueue: false, // fromIoredis() refuses clients that replay timed-out decisions
 *   autoResendUnfulfilledCommands: false,
 *   lazyConnect: true,
 * });
 * redis.on("error", (error) => console.warn("redis:", error.message));
 * await redis.connect();
 * const store = new RedisStore(fromIoredis(redis));
 * const limiter = new DistributedLimiter({ store, rate: 50, burst: 10 });
 * const decision = await limiter.check("client-42");
 * await redis.quit(); // on shutdown
 * ```
 */
export class RedisStore implements StateStore {
  #client: RedisScriptClient;
  #clock: Clock | undefined;
  #maxAttempts: number;
  #shas = new Map<string, Promise<string>>();
  // deno-lint-ignore no-explicit-any
  #plans = new WeakMap<Algorithm<any>, Plan | null>();

  /**
   * Creates a store over a client.
   * @param client Anything with `evalsha(sha, keys, args)` and `eval(script, keys, args)`:
   * an `@upstash/redis` client as it is, or ioredis / node-redis through
   * {@linkcode fromIoredis} / {@linkcode fromNodeRedis}.
   * @param options A test clock, and the retry bound of the optimistic path.
   * @throws {TypeError} when the client lacks `eval` or `evalsha`, or an option has the wrong
   * type.
   * @throws {RangeError} when `maxAttempts` is not an integer >= 1.
   */
  constructor(client: RedisScriptClient, options?: RedisStoreOptions) {
    const { clock, maxAttempts = 16 } = optionsOf(NAME, options);
    this.#client = withMethods(NAME, "client", client, ["evalsha", "eval"], CLIENT_RULE);
    this.#clock = optionalClock(NAME, clock);
    this.#maxAttempts = integer(NAME, "maxAttempts", maxAttempts, 1);
    // A script's reply goes through readDecision(), which checks it.
    CHECKS_OWN_DECISIONS.register(this, (algorithm) => this.#plan(algorithm) !== null);
    // ... and sends it as one command, after reading the signal once.
    READS_SIGNAL_ON_ENTRY.register(this, (algorithm) => this.#plan(algorithm) !== null);
  }

  /**
   * Decides a request for `key` in one script call; see {@linkcode StateStore.decide}.
   * @param key The full key.
   * @param algorithm The algorithm: one script call for those in `REDIS_SCRIPTS`, an optimistic
   * read and compare-and-set (two calls, retried on contention) for any other.
   * @param cost Units the request costs.
   * @param options Whether to consume, and a signal.
   * @returns The decision.
   * @throws {StoreError} when Redis fails or answers nonsense, or other writers won
   * `maxAttempts` times in a row.
   */
  decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions = {},
  ): Promise<RateLimitDecision> {
    // Not async: one promise chain from the client's reply to the decision, no async frame.
    try {
      return this.#decide(key, algorithm, cost, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions,
  ): Promise<RateLimitDecision> {
    options.signal?.throwIfAborted();
    const plan = this.#plan(algorithm);
    if (plan === null) return this.#optimistic(key, algorithm, cost, options);
    const clock = this.#clock;
    const params = plan.params;
    let args: readonly string[];
    const short = plan.short && options.consume !== false;
    if (short) {
      // GCRA's short form: [interval, tolerance], then the cost unless it is 1, and the time
      // only from a test clock.
      args = clock !== undefined
        ? [params[0], params[1], String(cost), String(clock.now())]
        : cost === 1
        ? params
        : [params[0], params[1], String(cost)];
    } else {
      const now = clock === undefined ? "" : String(clock.now());
      const full = [cost === 1 ? "1" : String(cost), options.consume === false ? "0" : "1", now];
      for (const param of params) full.push(param);
      args = full;
    }
    const sent = plan.sha === undefined
      ? this.#run(plan.script, [key], args as string[])
      : this.#runLoaded(plan.sha, plan.script, [key], args as string[]);
    return sent.then(short ? plan.readShort : plan.readFull);
  }

  // The script and its parameters as text, worked out once per algorithm: a decision then
  // only adds the cost, the flag and the time.
  // deno-lint-ignore no-explicit-any
  #plan(algorithm: Algorithm<any>): Plan | null {
    let plan = this.#plans.get(algorithm);
    if (plan === undefined) {
      const script = REDIS_SCRIPTS[algorithm.name];
      const params = nativeParams(algorithm, "name");
      if (script === undefined || params === undefined) {
        plan = null;
      } else {
        const numbers = params as number[];
        const readFull = (reply: unknown) => readDecision(reply, algorithm, NAME);
        plan = {
          script,
          sha: undefined,
          params: Object.freeze(params.map(String)),
          short: script === GCRA_SCRIPT,
          readFull,
          readShort: (reply: unknown) => {
            // An integer; as a string from clients that return them so (ioredis's stringNumbers).
            const ticks = typeof reply === "number"
              ? reply
              : typeof reply === "string" && DIGITS.test(reply)
              ? Number(reply)
              : NaN;
            return Number.isInteger(ticks) ? readShort(ticks, numbers, algorithm) : readFull(reply);
          },
        };
      }
      this.#plans.set(algorithm, plan);
      if (plan !== null) {
        const ready = plan;
        void this.#sha(script).then((sha) => ready.sha = sha, () => {});
      }
    }
    return plan;
  }

  /**
   * Forgets `key`.
   * @param key The full key.
   * @param options A signal.
   * @returns Nothing, once Redis deleted the key.
   * @throws {StoreError} when Redis fails.
   */
  async reset(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.#run(RESET_SCRIPT, [key], []);
  }

  // For algorithms without a Lua version: decide() in the client between a read and a
  // compare-and-set, both on Redis's clock, retried when another writer got there first.
  #optimistic(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions,
  ): Promise<RateLimitDecision> {
    const margin = this.#clock === undefined ? 0 : 60_000;
    return optimisticDecide<string>(
      {
        read: async () => {
          const reply = await this.#run(READ_SCRIPT, [key], []);
          const now = this.#clock?.now() ??
            (Array.isArray(reply) ? Number(reply[1]) * 1000 + Number(reply[2]) / 1000 : NaN);
          if (!Array.isArray(reply) || reply.length !== 3 || !Number.isFinite(now)) {
            throw new StoreError(`${NAME} got an invalid reply: ${String(reply)}`, NAME);
          }
          // Clients that decode replies (Upstash) may hand back a number: compare as text.
          const token = String(reply[0]);
          return { state: parseState(token), token, now };
        },
        write: async (token, state, ttl) => {
          const next = state === undefined ? "" : `j:${JSON.stringify(state)}`;
          if (next === token) return true; // a denial's state, unchanged: nothing to write
          const args = [token, next, String(Math.ceil(ttl + margin))];
          return Number(await this.#run(COMPARE_AND_SET_SCRIPT, [key], args)) === 1;
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

  async #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    return await this.#runLoaded(await this.#sha(script), script, keys, args);
  }

  // EVALSHA, then EVAL when Redis does not have the script; one promise chain, no async frame.
  #runLoaded(sha: string, script: string, keys: string[], args: string[]): Promise<unknown> {
    return attempt(() => this.#client.evalsha(sha, keys, args)).then(undefined, (error) => {
      if (!/NOSCRIPT/i.test(String((error as Error)?.message ?? error))) {
        throw storeFailure(NAME, error);
      }
      return attempt(() => this.#client.eval(script, keys, args)).then(undefined, (error) => {
        throw storeFailure(NAME, error);
      });
    });
  }

  #sha(script: string): Promise<string> {
    let sha = this.#shas.get(script);
    if (sha === undefined) {
      sha = sha1(script);
      this.#shas.set(script, sha);
    }
    return sha;
  }
}

// A client call's promise; a call that throws instead of rejecting counts as a rejection.
function attempt(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

interface Plan {
  readonly script: string;
  sha: string | undefined;
  readonly params: readonly string[];
  /** The script takes the short form of a consuming decision (GCRA_SCRIPT). */
  readonly short: boolean;
  /** Reads the answer to the full form. */
  readonly readFull: (reply: unknown) => RateLimitDecision;
  /** Reads the answer to the short form: one integer, or the full form's answer. */
  readonly readShort: (reply: unknown) => RateLimitDecision;
}

const DIGITS = /^-?\d+$/;

// GCRA's short answer to an allowed decision: resetAfterMs · 4096, one integer; `remaining` is
// worked out as the script (and gcra's decide()) does: `numbers` are `[interval, tolerance]`.
function readShort(
  ticks: number,
  numbers: readonly number[],
  // deno-lint-ignore no-explicit-any
  algorithm: Algorithm<any>,
): RateLimitDecision {
  const [interval, tolerance] = numbers;
  const wait = ticks / 4096;
  const decision = {
    allowed: true,
    limit: algorithm.limit,
    remaining: Math.floor((tolerance - wait) / interval + SLACK),
    retryAfterMs: 0,
    resetAfterMs: wait,
  };
  return checkDecision(decision, algorithm, NAME);
}

// States of the optimistic path are JSON after "j:"; anything else (a native state) is none.
function parseState(raw: string): unknown {
  if (!raw.startsWith("j:")) return undefined;
  try {
    return JSON.parse(raw.slice(2)) ?? undefined;
  } catch {
    return undefined;
  }
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
