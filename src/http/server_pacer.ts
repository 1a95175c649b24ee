/**
 * Pacing requests by what the server says about its rate limits.
 *
 * @module
 */

import { BoundedMap } from "../core/bounded_map.ts";
import { clearLongTimeout, setLongTimeout, type TimerHandle } from "../core/timer.ts";
import { pathOf } from "../core/url.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { assertClock, integer, invalid, positive } from "../core/validate.ts";
import { readRateLimitHeaders } from "./ratelimit_headers.ts";
import { parseHttpDate } from "./_http_date.ts";
import {
  newPaceState,
  paceDelay,
  paceEnd,
  paceLearn,
  type PaceLimits,
  paceStart,
  type PaceState,
} from "./_pace_state.ts";

/** Options for {@linkcode ServerPacer}. */
export interface ServerPacerOptions {
  /**
   * Where time comes from. Its readings are also used as the wall clock for HTTP-dates and epoch
   * resets in headers, so a custom clock should count milliseconds since the epoch.
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * How many keys are remembered at most. Past it, the least recently used idle key is forgotten.
   * @default {10_000}
   */
  maxKeys?: number;
  /**
   * The longest one hold lasts (a `Retry-After`, or a spent quota waiting for its window), in
   * milliseconds. When it ends, a single request probes the server again, so an absurd header
   * cannot stall a key for days. At most 2147483647 (the timer limit).
   * @default {60_000}
   */
  maxHoldMs?: number;
  /**
   * How long a 429 that says nothing about when to come back holds a key (a quarter of it when
   * the server accepted requests over the last one: the key is then paced by AIMD, and a rejected
   * probe holds longer), how far back AIMD counts what the server accepted, and how long a
   * remaining count without a window stays valid, in milliseconds.
   * @default {1000}
   */
  fallbackWindowMs?: number;
  /**
   * Policies whose window `w` is at most this many milliseconds are paced: requests are spread at
   * their sustained rate `q / w`. Longer policies (hourly, daily quotas) are only counted, so that
   * a short batch is not spread over a day.
   * @default {60_000}
   */
  maxPacedWindowMs?: number;
  /**
   * Whether a cold key starts slowly: the first request goes alone, and each answer lets one more
   * request be in flight (doubling per round trip) until the server's headers describe its
   * limits, so that a burst of callers on a cold key cannot overrun a small burst before the
   * headers are known. The requests an answer lets in go on the next turn of the event loop, once
   * the answers that arrived with it (a 429 among them) have been observed. Off by default here
   * (a key the server never described never waits); a `Pool` turns it on.
   * @default {false}
   */
  probeFirst?: boolean;
}

/** Options for {@linkcode ServerPacer.acquire} and {@linkcode ServerPacer.tryAcquire}. */
export interface ServerPacerAcquireOptions {
  /** Stops waiting: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * The request's path (`/search/issues`). Answers teach the pacer which quotas a route counts
   * against (GitHub's `X-RateLimit-Resource`, draft-11 policy names and `pk`), so that a spent
   * quota holds only the requests that count against it. A route not seen yet is judged by the
   * routes with the same first segment, else by every quota.
   */
  route?: string;
  /**
   * The tokens the request will use (a finite number >= 0; 0 by default), for servers that
   * announce token budgets: OpenAI's `x-ratelimit-*-tokens` and Anthropic's
   * `anthropic-ratelimit-{tokens,input-tokens}-*`. A request whose cost is more than the tokens
   * left waits for the budget's reset (one larger than the whole budget waits for a full one);
   * a spent `output-tokens` budget holds every request with a cost. Pass the same cost to
   * {@linkcode ServerPacer.observe}: the answer's remaining tokens then replace the estimate
   * (what the request used is charged, the rest of its cost refunded). A request without a
   * cost is not held by token budgets.
   */
  cost?: number;
}

/** Options for {@linkcode ServerPacer.observe}. */
export interface ServerPacerObserveOptions {
  /** The `cost` the request was acquired with. */
  cost?: number;
  /**
   * The path of the request this answers, as given to `acquire` (`/search/issues`): which of the
   * server's separate quotas the answer speaks for. Read from `response.url` when not given,
   * which Deno parses again on every read (about 1.3 µs an answer).
   */
  route?: string;
}

interface Waiter {
  route: string | undefined;
  cost: number;
  resolve(release: () => void): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Entry extends PaceState {
  waiters: Waiter[];
  timer?: TimerHandle;
  offsetMs: number; // client clock minus server clock, as bounded by Date headers: at most …
  offsetFloorMs: number; // … and more than this
  clockTrusted: boolean; // no rate-limit answer yet: the client's clock may stand for the server's
  /** The last `Date` read and its value: answers within the same second repeat it. */
  dateText?: string;
  dateMs?: number;
}

const MAX_TIMER_MS = 2_147_483_647;
const CLOCKS_AGREE_MS = 100;

// The server's clock as seen from this client: `Date` has a resolution of one second, so each
// answer bounds the offset (client time − server time, the trip included) to (client time − Date
// − 1 s, client time − Date]: the smallest difference seen so far bounds it from above, the
// largest less a second from below. When the two bounds allow no offset (within
// CLOCKS_AGREE_MS: an answer read a few ms into the next second), the clocks agree and the
// client's own is used, to the millisecond, as the parser does for a single answer; otherwise
// (a clock seconds apart) the upper bound, so that resets come out long, never short: a burst
// that waits for a window's reset at the same phase every second would otherwise read every
// reset up to a second late. A clock ahead by less than a second agrees with every Date too, and
// would send each window's burst early: after the key's first rate-limit answer, the upper bound
// is used for good. The parser clamps the estimate into the answer's second.
function serverClock(entry: Entry, response: Response, now: number): number {
  const value = response.headers.get("date");
  if (value === null || value.length > 64) return now;
  if (value !== entry.dateText) {
    entry.dateText = value;
    entry.dateMs = parseHttpDate(value.trim(), now);
  }
  const date = entry.dateMs;
  if (date === undefined) return now;
  entry.offsetMs = Math.min(entry.offsetMs, now - date);
  entry.offsetFloorMs = Math.max(entry.offsetFloorMs, now - date - 1000);
  const agree = entry.clockTrusted && entry.offsetFloorMs <= CLOCKS_AGREE_MS &&
    entry.offsetMs >= 0;
  // How far ahead of the server's clock this one is taken to be (for windows that turn on its
  // seconds, too).
  entry.serverLag = agree ? Math.max(0, entry.offsetFloorMs) : entry.offsetMs;
  return now - entry.serverLag;
}

function optionsOf(
  options: AbortSignal | ServerPacerAcquireOptions | undefined,
): ServerPacerAcquireOptions {
  if (options === undefined || options === null) return {};
  return typeof (options as AbortSignal).addEventListener === "function"
    ? { signal: options as AbortSignal }
    : options as ServerPacerAcquireOptions;
}

function costOf(cost: unknown, method: string): number {
  if (cost === undefined) return 0;
  if (typeof cost !== "number" || !Number.isFinite(cost) || cost < 0) {
    invalid(`call ServerPacer.${method}()`, "cost", "a finite number >= 0", cost);
  }
  return cost;
}

/**
 * Keeps a client under the rate limits a server announces. Each response teaches the pacer the
 * server's policies for a key (`RateLimit-Policy`/`RateLimit`, their older drafts,
 * `X-RateLimit-*`, `Retry-After`); each request first waits in {@linkcode ServerPacer.acquire}
 * until that policy allows one more:
 *
 * - **pacing**: requests are spread at the sustained rate `q / w` of every policy with a window up
 *   to `maxPacedWindowMs`, instead of bursting, once a bucket's burst that the key's first answer
 *   reports (under half the quota left) is spent down to its last request — except a single
 *   policy found to come back whole (a fixed window or a sliding log: whole on the key's first
 *   answer, or whole again after it was spent), whose quota is spent at once; once spent, its
 *   requests answered more than `w` ago no longer count, so the next ones need not wait out a
 *   reset rounded up to seconds; a fixed window (found whole again while a request it counted
 *   before was sent less than `w` earlier: until then the last request of each window leaves a
 *   round trip and 10 ms after its first answer) is spent every `w` from where it was found to turn,
 *   without a round trip of drift per window, and once per key the first request of a window
 *   goes alone just after the server's next whole second (by its `Date`), to find whether the
 *   windows turn there (a window counted per second of the server's clock): found renewed, the
 *   bursts start there; rejected, that one 429 is the cost, and the windows found stand;
 * - **budget**: at most the reported remaining quota `r` is spent within its window `t`, counting
 *   requests still in flight (acquired, not yet answered);
 * - **hold**: on a 429 (or 503 with `Retry-After`), no request leaves for that key until
 *   `Retry-After` has passed; then one request probes and its answer sets the pace again. When the
 *   quota is spent, requests wait for the window to pass, and then spend the policy's quota `q`
 *   again (spread at the pace) instead of probing one by one;
 * - **concurrency**: a `qu="concurrent-requests"` quota caps the requests in flight, and so does
 *   a plain quota whose remaining count, with a reset of 0, goes back up as answers come back
 *   (remaining + requests in flight stays at the limit); a 503 that says no limit caps them at
 *   one fewer than were in flight when the rejected request left (never the pace);
 * - **AIMD**: a server that rejects with a 429 without saying its limit (bare, or `Retry-After`
 *   alone) is paced at a rate found by additive increase and multiplicative decrease, starting
 *   from what it accepted over the last `fallbackWindowMs`, climbing fast until its second
 *   rejection and then no higher than just under the rate that drew it (every `Retry-After` is
 *   held whole); answers without headers keep it.
 *
 * Quotas in `content-bytes` are not paced.
 *
 * A key the server never sent headers for never waits: `acquire` resolves at once without a timer.
 * Waiters are served in order; aborting one removes it.
 *
 * Call order per request: `acquire` → `fetch` → `observe` → `release`.
 *
 * @example Spread requests at the server's rate
 * ```ts
 * import { ServerPacer } from "@fluxpool/fluxpool/headers";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const pacer = new ServerPacer({ clock });
 *
 * const release = await pacer.acquire("api"); // nothing known yet: no wait
 * // 10 per second, 2 left: a bucket's burst (a whole window, 9 left, would be spent at once)
 * pacer.observe("api", new Response(null, {
 *   headers: { "RateLimit-Policy": '"default";q=10;w=1', "RateLimit": '"default";r=2;t=1' },
 * }));
 * release();
 *
 * (await pacer.acquire("api"))(); // 10 per second: one now …
 * assert.equal(pacer.delay("api"), 100); // … the next one 100 ms later
 * ```
 *
 * @example Spend a window that comes back whole at once
 * ```ts
 * import { ServerPacer } from "@fluxpool/fluxpool/headers";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const pacer = new ServerPacer({ clock });
 *
 * const release = await pacer.acquire("api");
 * pacer.observe("api", new Response(null, {
 *   headers: { "RateLimit-Policy": '"default";q=10;w=1', "RateLimit": '"default";r=9;t=1' },
 * }));
 * release();
 *
 * // Whole but for the one request: a fixed window or a sliding log. 8 go at once, the last
 * // 10 ms later (until a fixed window is told from a sliding log, see the pacing notes above).
 * const rest = Array.from({ length: 8 }, () => pacer.tryAcquire("api")!);
 * assert.ok(rest.every((r) => r !== undefined));
 * assert.equal(pacer.delay("api"), 10);
 * clock.advance(10);
 * rest.push(pacer.tryAcquire("api")!);
 * assert.ok(rest.every((r) => r !== undefined));
 * assert.equal(pacer.tryAcquire("api"), undefined); // the window is spent
 * for (const r of rest) r();
 * ```
 *
 * @example Hold after a 429
 * ```ts
 * import { ServerPacer } from "@fluxpool/fluxpool/headers";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const pacer = new ServerPacer({ clock });
 * const release = await pacer.acquire("api");
 * pacer.observe("api", new Response(null, { status: 429, headers: { "Retry-After": "2" } }));
 * release();
 * assert.equal(pacer.delay("api"), 2000);
 * ```
 *
 * @example Spend a request's tokens against an OpenAI token budget
 * ```ts
 * import { ServerPacer } from "@fluxpool/fluxpool/headers";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const pacer = new ServerPacer({ clock });
 * const release = await pacer.acquire("openai", { cost: 1000 });
 * pacer.observe("openai", new Response(null, {
 *   headers: {
 *     "x-ratelimit-limit-requests": "500",
 *     "x-ratelimit-remaining-requests": "499",
 *     "x-ratelimit-reset-requests": "120ms",
 *     "x-ratelimit-limit-tokens": "4000",
 *     "x-ratelimit-remaining-tokens": "3000",
 *     "x-ratelimit-reset-tokens": "15s",
 *   },
 * }), { cost: 1000 });
 * release();
 *
 * (await pacer.acquire("openai", { cost: 2500 }))(); // 3000 tokens left: it goes …
 * assert.equal(pacer.tryAcquire("openai", { cost: 2500 }), undefined); // … 500 left: this waits
 * const next = pacer.tryAcquire("openai"); // no cost: not held by the token budget
 * assert.equal(typeof next, "function");
 * next!();
 * ```
 */
export class ServerPacer {
  #clock: Clock;
  #limits: PaceLimits;
  #entries: BoundedMap<string, Entry>;

  /**
   * Creates a pacer.
   * @param options The clock, the memory bound and the caps on what servers may ask for.
   * @throws {RangeError} when a number is out of range (`maxKeys` < 1, `maxHoldMs` <= 0 …).
   * @throws {TypeError} when an option has the wrong type.
   */
  constructor(options: ServerPacerOptions = {}) {
    const {
      clock = systemClock,
      maxKeys = 10_000,
      maxHoldMs = 60_000,
      fallbackWindowMs = 1000,
      maxPacedWindowMs = 60_000,
      probeFirst = false,
    } = options ?? {};
    this.#clock = assertClock("ServerPacer", clock);
    // CLOCK (second chance) over idle keys: a key with requests in flight or waiting is passed
    // over while the sweep finds another within its few steps, and is dropped from the map (not
    // stopped) otherwise.
    this.#entries = new BoundedMap({
      maxKeys: integer("ServerPacer", "maxKeys", maxKeys, 1, true),
      keep: (entry) => entry.inflight > 0 || entry.waiters.length > 0,
    });
    positive("ServerPacer", "maxHoldMs", maxHoldMs);
    if (maxHoldMs > MAX_TIMER_MS) {
      throw new RangeError(
        `Cannot create ServerPacer as 'maxHoldMs' must be at most ${MAX_TIMER_MS}: received ${maxHoldMs}`,
      );
    }
    positive("ServerPacer", "fallbackWindowMs", fallbackWindowMs);
    positive("ServerPacer", "maxPacedWindowMs", maxPacedWindowMs);
    if (typeof probeFirst !== "boolean") {
      throw new TypeError(
        `Cannot create ServerPacer as 'probeFirst' must be a boolean: received ${typeof probeFirst}`,
      );
    }
    this.#limits = {
      maxHoldMs,
      fallbackWindowMs: Math.min(fallbackWindowMs, maxHoldMs),
      maxPacedWindowMs,
      probeFirst,
    };
  }

  /** How many keys the pacer holds state for. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Waits until the server's policy for `key` allows one more request, and counts it as in
   * flight. Resolves at once for a key the server never sent rate-limit headers for.
   * @param key Whose policy applies (an origin, a token, a route).
   * @param options A signal that stops waiting (the promise rejects with `signal.reason`), or
   * the options: the signal, the request's route and its token cost.
   * @returns A function to call once the request has finished (after
   * {@linkcode ServerPacer.observe}); calling it again does nothing.
   * @throws The signal's reason when it aborts before the request may start; a `RangeError`
   * (`TypeError` for a non-number) when `cost` is not a finite number >= 0.
   *
   * @example Usage
   * ```ts
   * import { ServerPacer } from "@fluxpool/fluxpool/headers";
   *
   * const pacer = new ServerPacer();
   * const release = await pacer.acquire("https://api.example");
   * try {
   *   const response = new Response("ok"); // await fetch(…) in real code
   *   pacer.observe("https://api.example", response);
   *   await response.text();
   * } finally {
   *   release();
   * }
   * ```
   */
  acquire(
    key: string,
    options?: AbortSignal | ServerPacerAcquireOptions,
  ): Promise<() => void> {
    const { signal, route, cost: declared } = optionsOf(options);
    let cost: number;
    try {
      cost = costOf(declared, "acquire");
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const release = this.tryAcquire(key, { route, cost });
    if (release !== undefined) return Promise.resolve(release);
    const entry = this.#entry(key);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { route, cost, resolve, reject, signal };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = entry.waiters.indexOf(waiter);
          if (i >= 0) entry.waiters.splice(i, 1);
          reject(signal.reason);
          this.#pump(entry);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      entry.waiters.push(waiter);
      this.#pump(entry);
    });
  }

  /**
   * {@linkcode ServerPacer.acquire} without waiting: the release function when a request for
   * `key` may start now (nobody waits before it and its policy allows it), else `undefined`.
   * @param key The limit key, such as an origin or a token's key.
   * @param options A signal (when it has aborted, nothing is acquired), or the options: the
   * signal, the request's route and its token cost.
   * @returns The release function, or `undefined` when the request would have to wait.
   * @throws {RangeError} when `cost` is not a finite number >= 0 (`TypeError` for a non-number).
   *
   * @example Usage
   * ```ts
   * import { ServerPacer } from "@fluxpool/fluxpool/headers";
   * import assert from "node:assert/strict";
   *
   * const pacer = new ServerPacer();
   * const release = pacer.tryAcquire("api");
   * assert.equal(typeof release, "function"); // nothing known about "api": no wait
   * pacer.observe("api", new Response(null, { status: 429, headers: { "Retry-After": "5" } }));
   * release!();
   * assert.equal(pacer.tryAcquire("api"), undefined); // held for 5 s
   * ```
   */
  tryAcquire(
    key: string,
    options?: AbortSignal | ServerPacerAcquireOptions,
  ): (() => void) | undefined {
    const { signal, route, cost: declared } = optionsOf(options);
    const cost = costOf(declared, "tryAcquire");
    if (signal?.aborted) return undefined;
    const entry = this.#entry(key);
    if (entry.waiters.length > 0) return undefined;
    // A key the server never said anything about neither waits nor needs the time (unless its
    // slow start holds requests back).
    const now = entry.known || entry.inflight > entry.answers ? this.#clock.now() : 0;
    return paceDelay(entry, now, this.#limits, route, cost) === 0
      ? this.#grant(entry, now, route, cost)
      : undefined;
  }

  /**
   * Learns from a response for `key`: its rate-limit headers (any status) and, for a 429 (or a
   * 503 with `Retry-After`), that the key must hold back. Call it before the request's release
   * function, so that the pacer knows which requests the answer did not count yet.
   * @param key The key the request was acquired for.
   * @param response The response; only its status and headers are read.
   * @param options The `cost` the request was acquired with: its declared tokens are replaced by
   * the token budgets this answer reports.
   * @throws {RangeError} when `cost` is not a finite number >= 0.
   *
   * @example Learn a spent quota
   * ```ts
   * import { ServerPacer } from "@fluxpool/fluxpool/headers";
   * import { ManualClock } from "@fluxpool/fluxpool/testing";
   * import assert from "node:assert/strict";
   *
   * const clock = new ManualClock(Date.UTC(2026, 0, 1));
   * const pacer = new ServerPacer({ clock });
   * pacer.observe("api", new Response(null, { headers: { "RateLimit": '"day";r=0;t=30' } }));
   * assert.equal(pacer.delay("api"), 30_000);
   * ```
   */
  observe(key: string, response: Response, options?: ServerPacerObserveOptions): void {
    const cost = costOf(options?.cost, "observe");
    const route = options?.route;
    if (route !== undefined && typeof route !== "string") {
      invalid("call ServerPacer.observe()", "route", "a string", route, TypeError);
    }
    const now = this.#clock.now();
    const entry = this.#entry(key);
    const info = readRateLimitHeaders(
      response.headers,
      () => serverClock(entry, response, now),
    );
    const throttled = paceLearn(
      entry,
      response.status,
      info,
      now,
      this.#limits,
      route ?? pathOf(response.url),
      cost,
    );
    if (throttled) entry.clockTrusted = false;
    this.#pumpAfterAnswer(entry);
  }

  /**
   * How long a request for `key` would wait if it were acquired now, in milliseconds.
   * @param key The key.
   * @returns 0 when it could start at once, `Infinity` while it waits for an answer to a probe.
   *
   * @example Unknown keys never wait
   * ```ts
   * import { ServerPacer } from "@fluxpool/fluxpool/headers";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ServerPacer().delay("anything"), 0);
   * ```
   */
  delay(key: string): number {
    const entry = this.#entries.get(key);
    if (entry === undefined) return 0;
    return paceDelay(entry, this.#clock.now(), this.#limits);
  }

  /**
   * Forgets what the server said about `key`; its waiting requests may start.
   * @param key The key.
   * @returns Whether the key was known.
   *
   * @example Reset
   * ```ts
   * import { ServerPacer } from "@fluxpool/fluxpool/headers";
   * import assert from "node:assert/strict";
   *
   * const pacer = new ServerPacer();
   * pacer.observe("api", new Response(null, { status: 429, headers: { "Retry-After": "60" } }));
   * assert.ok(pacer.delay("api") > 0);
   * pacer.reset("api");
   * assert.equal(pacer.delay("api"), 0);
   * ```
   */
  reset(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    const { inflight, seen, costs, seenCosts, starts, startedAt } = entry;
    Object.assign(entry, newPaceState(), { inflight, seen, costs, seenCosts, starts, startedAt });
    if (entry.inflight === 0 && entry.waiters.length === 0) this.#entries.delete(key);
    else this.#pump(entry);
    return true;
  }

  #grant(entry: Entry, now: number, route: string | undefined, cost: number): () => void {
    paceStart(entry, now, route, cost);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      paceEnd(entry, this.#clock, cost);
      this.#pumpAfterAnswer(entry);
    };
  }

  // After an answer or a release: a cold key's slow start lets a waiter in per answer. Answers
  // that land together are observed one by one, and the requests that a 200 (or its release)
  // let in would reach `fetch` after a 429 that came with it was observed, each drawing one more
  // 429: the waiters are let in on the next turn of the event loop instead, once every answer
  // that arrived with this one is known.
  #pumpAfterAnswer(entry: Entry): void {
    if (!entry.known && this.#limits.probeFirst && entry.waiters.length > 0) this.#pumpSoon(entry);
    else this.#pump(entry);
  }

  // Pumps on a timer of 0 ms, in place of any timer armed for later.
  #pumpSoon(entry: Entry): void {
    if (entry.timer !== undefined) clearLongTimeout(entry.timer);
    entry.timer = undefined;
    const timer = setLongTimeout(() => {
      entry.timer = undefined;
      this.#pump(entry);
    }, 0);
    // Arming can run microtasks (see setLongTimeout), and with them a pump: its word is newer.
    if (entry.timer === undefined && entry.waiters.length > 0) entry.timer = timer;
    else clearLongTimeout(timer);
  }

  // Starts every waiter that may start now, then sets one timer for the next.
  #pump(entry: Entry): void {
    if (entry.timer !== undefined) {
      clearLongTimeout(entry.timer);
      entry.timer = undefined;
    }
    while (entry.waiters.length > 0) {
      const now = this.#clock.now();
      // In order; with separate quotas, a waiter whose quota is spent lets the others pass.
      let wait = Infinity;
      let index = -1;
      const scan = entry.routes.size === 0 ? 1 : entry.waiters.length;
      for (let i = 0; i < scan && index < 0; i++) {
        const { route, cost } = entry.waiters[i];
        const delay = paceDelay(entry, now, this.#limits, route, cost);
        if (delay === 0) index = i;
        else wait = Math.min(wait, delay);
      }
      if (index < 0) {
        if (wait !== Infinity) {
          const timer = setLongTimeout(() => {
            entry.timer = undefined;
            this.#pump(entry);
          }, Math.min(Math.ceil(wait), MAX_TIMER_MS));
          // Arming can run microtasks (see setLongTimeout), and with them a pump (a release, an
          // abort, an answer): the timer it armed, or its empty queue, is the newer word.
          if (entry.timer === undefined && entry.waiters.length > 0) entry.timer = timer;
          else clearLongTimeout(timer);
        }
        return;
      }
      const [waiter] = entry.waiters.splice(index, 1);
      if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.resolve(this.#grant(entry, now, waiter.route, waiter.cost));
    }
  }

  #entry(key: string): Entry {
    const known = this.#entries.use(key);
    if (known !== undefined) return known.value;
    return this.#entries.set(key, {
      ...newPaceState(),
      waiters: [],
      offsetMs: Infinity,
      offsetFloorMs: -Infinity,
      clockTrusted: true,
    }).value;
  }
}
