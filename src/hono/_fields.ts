// The rate-limit response fields in their three dialects, and what a limiter says about its own
// window. Pure formatting: no Hono, no I/O beyond crypto.subtle for the partition key.

import type { RateLimitDecision } from "../limiter/decision.ts";

/** One quota as the fields describe it. */
export interface QuotaView {
  /** Policy name (an SF String). */
  readonly name: string;
  /** `q`: capacity in cost units. */
  readonly quota: number;
  /** `w`: window in whole seconds, when known. */
  readonly window: number | undefined;
  /** `r`: whole units left. */
  readonly remaining: number;
  /**
   * `t`: whole seconds, rounded up, of the effective window, within which the client can use no
   * more than `r`: a denial's Retry-After; with `r=0` after an allowed request, until the next
   * unit is back; else until the quota is full again.
   */
  readonly reset: number;
}

/** Which dialect to write. */
export type HeaderStyle = "draft-11" | "draft-7" | "legacy";

/** Extra draft-11 parameters. */
export interface FieldExtras {
  /** `qu`: the quota unit, when not the implied "request". */
  readonly quotaUnit?: string;
  /** `pk`: an SF Byte Sequence, already encoded as `:base64:`. */
  readonly partitionKey?: string;
}

/**
 * The largest Structured Fields Integer (RFC 9651: at most 15 digits). Every number written into
 * a field is clamped to it, so an enormous or infinite value never becomes `1e+21`, which no
 * parser accepts as an integer.
 */
export const SF_INTEGER_MAX = 999_999_999_999_999;

/** `value` as a field integer: floored, NaN and negatives 0, at most {@linkcode SF_INTEGER_MAX}. */
export function fieldInteger(value: number): number {
  return value > 0 ? Math.min(Math.floor(value), SF_INTEGER_MAX) : 0;
}

/** Whole seconds, rounded up, never negative, NaN 0, at most {@linkcode SF_INTEGER_MAX}. */
export function ceilSeconds(ms: number): number {
  return ms > 0 ? fieldInteger(Math.ceil(ms / 1000 - 1e-9)) : 0;
}

/** Whether `name` can be written as a Structured Field String (printable ASCII). */
export function isSfString(name: string): boolean {
  return /^[\x20-\x7e]*$/.test(name);
}

function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

/**
 * The window `w` a limiter's algorithm honestly states, in milliseconds, or `undefined` when it
 * cannot tell. For rate-based algorithms (GCRA, token and leaky bucket) the quota is the burst and
 * the window is the time to refill it from empty, `burst · period / rate`: a client pacing at
 * `q / w` is sending at exactly the sustained rate. Window algorithms state their own window.
 */
export function windowOf(limiter: unknown): number | undefined {
  const config = (limiter as { algorithm?: { config?: Record<string, unknown> } })?.algorithm
    ?.config;
  if (config === undefined || config === null) return undefined;
  const { rate, period = 1000, burst = 1, windowMs } = config;
  if (typeof windowMs === "number" && windowMs > 0) return windowMs;
  if (
    typeof rate === "number" && rate > 0 && typeof period === "number" && period > 0 &&
    typeof burst === "number" && burst > 0
  ) {
    const window = (burst * period) / rate;
    if (Number.isFinite(window) && window > 0) return window;
  }
  return undefined;
}

/**
 * What the fields state about one limit beyond its decision: its window, and how long one unit
 * takes to come back when the algorithm refills continuously.
 */
export interface LimitShape {
  /** The capacity, when the decision may not report it (a part of a `multiLimit`). */
  readonly limit?: number;
  /** The window `w` in milliseconds, as {@linkcode windowOf} states it. */
  readonly windowMs: number | undefined;
  /** `period / rate` for GCRA and the buckets; `undefined` for windows and the unknown. */
  readonly unitMs: number | undefined;
  /**
   * Whether the time until its next unit is back, once spent, is not in the decision and a
   * peek finds it (a sliding window: when its oldest request leaves it).
   */
  readonly peeks?: boolean;
}

// The algorithms whose capacity comes back one unit every `period / rate`, continuously, with
// `resetAfterMs` the time to refill every unit not left: GCRA's TAT, a bucket's level.
const REFILLING = new Set(["gcra", "tokenBucket", "leakyBucket"]);

function unitOf(algorithm: unknown): number | undefined {
  const { name, config } = (algorithm ?? {}) as {
    name?: unknown;
    config?: Record<string, unknown>;
  };
  if (typeof name !== "string" || !REFILLING.has(name) || config == null) return undefined;
  const { rate, period = 1000 } = config;
  if (typeof rate !== "number" || typeof period !== "number") return undefined;
  const unit = period / rate;
  return Number.isFinite(unit) && unit > 0 ? unit : undefined;
}

function peeks(algorithm: unknown): boolean {
  return (algorithm as { name?: unknown })?.name === "slidingWindow";
}

/** The shape of a limiter's (single) limit, with the window `windowMs` the middleware states. */
export function shapeOf(limiter: unknown, windowMs: number | undefined): LimitShape {
  const algorithm = (limiter as { algorithm?: unknown })?.algorithm;
  return { windowMs, unitMs: unitOf(algorithm), peeks: peeks(algorithm) };
}

/**
 * The shapes of a limiter's parts when it decides several limits together (`multiLimit`), in
 * order; `undefined` for a single limit.
 */
export function partShapesOf(limiter: unknown): LimitShape[] | undefined {
  const parts = (limiter as { algorithm?: { parts?: unknown } })?.algorithm?.parts;
  if (!Array.isArray(parts)) return undefined;
  return parts.map((algorithm) => {
    const limit = (algorithm as { limit?: unknown })?.limit;
    return {
      limit: typeof limit === "number" ? limit : undefined,
      windowMs: windowOf({ algorithm }),
      unitMs: unitOf(algorithm),
      peeks: peeks(algorithm),
    };
  });
}

/**
 * `t` for an allowed `decision`, in milliseconds. The draft's `t` is the effective window, the
 * time within which the client can use no more than `r`. With `r=0` the client waits it out, so
 * it is the time until the next unit is back: `nextUnitMs` when a peek found it (a sliding
 * window); for GCRA and the buckets, `resetAfterMs` less the refill of the units after that one.
 * (Until the quota is whole again held clients back for the whole refill.) With units left it
 * is until the quota is whole again: using no more than `r` until then never meets a denial,
 * and `q` is back when it ends.
 */
function effectiveWindowMs(
  decision: RateLimitDecision,
  unitMs: number | undefined,
  nextUnitMs: number | undefined,
): number {
  const { allowed, limit, remaining, resetAfterMs } = decision;
  if (!allowed || remaining >= 1) return resetAfterMs;
  if (nextUnitMs !== undefined) return Math.min(resetAfterMs, nextUnitMs);
  if (unitMs === undefined) return resetAfterMs;
  const untilNext = resetAfterMs - (limit - remaining - 1) * unitMs;
  return Number.isFinite(untilNext) ? Math.max(0, Math.min(resetAfterMs, untilNext)) : resetAfterMs;
}

/**
 * A view of one decision under the policy `name`; `nextUnitMs` is the time until its next unit
 * is back when a peek found it.
 */
export function viewOf(
  name: string,
  decision: RateLimitDecision,
  shape: LimitShape,
  nextUnitMs?: number,
): QuotaView {
  const { windowMs } = shape;
  // `w` must be a whole number of seconds: the window is rounded up and the quota scaled with it
  // (rounded down), so that q/w is the sustained rate (20/s with a burst of 5 is q=20;w=1, not
  // q=5;w=1) and never above it: a client that paces by it is never denied.
  const window = windowMs === undefined ? undefined : Math.max(1, ceilSeconds(windowMs));
  // (A window past the field range is clamped: its quota is left as it is.)
  const scale = window === undefined ? 1 : Math.max(1, (window * 1000) / windowMs!);
  return {
    name,
    quota: fieldInteger(decision.limit * scale + 1e-9),
    window,
    remaining: fieldInteger(decision.remaining),
    reset: resetOf(decision, shape.unitMs, nextUnitMs),
  };
}

function resetOf(
  decision: RateLimitDecision,
  unitMs: number | undefined,
  nextUnitMs: number | undefined,
): number {
  // A denial's `t` is its Retry-After (the same whole seconds).
  if (!decision.allowed && Number.isFinite(decision.retryAfterMs)) {
    return Math.max(1, ceilSeconds(decision.retryAfterMs));
  }
  const ms = effectiveWindowMs(decision, unitMs, nextUnitMs);
  // `r=0;t=0` would say "spent, and back now": a wait that rounds to nothing is a second.
  return decision.allowed && fieldInteger(decision.remaining) === 0 && ms > 0
    ? Math.max(1, ceilSeconds(ms))
    : ceilSeconds(ms);
}

/** A quota's stated window when it is a finite number > 0, else unknown (`w` left out). */
function windowMsOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}

interface QuotaEntry extends RateLimitDecision {
  readonly name: string;
  readonly windowMs?: number;
}

function isQuotaEntry(value: unknown): value is QuotaEntry {
  const entry = value as QuotaEntry;
  return typeof entry?.name === "string" && isSfString(entry.name) && entry.name !== "" &&
    typeof entry.limit === "number" && typeof entry.remaining === "number" &&
    typeof entry.resetAfterMs === "number";
}

/**
 * The views of a decision: one per quota when it reports several (a `QuotaManager` decision's
 * `quotas`, each under its own name and window; a `multiLimit` decision's `limits`, as `name`,
 * `name-2`, … with the shapes of `parts`), else one under `name`. Each view's `r` and `t` come
 * from the same limit: a client never sees the `r` of one with the `t` of another. `nextUnits`
 * are the times a peek found until the next unit is back, per part (or for the one limit).
 */
export function viewsOf(
  name: string,
  decision: RateLimitDecision,
  shape: LimitShape,
  parts?: readonly LimitShape[],
  nextUnits?: readonly (number | undefined)[],
): QuotaView[] {
  const quotas = (decision as { quotas?: unknown }).quotas;
  if (Array.isArray(quotas) && quotas.length > 0 && quotas.every(isQuotaEntry)) {
    return quotas.map((quota) =>
      viewOf(quota.name, quota, { windowMs: windowMsOf(quota.windowMs), unitMs: undefined })
    );
  }
  const partName = (i: number) => i === 0 ? name : `${name}-${i + 1}`;
  const limits = decision.limits;
  if (Array.isArray(limits) && limits.length > 1) {
    return limits.map((part, i) =>
      viewOf(partName(i), part, partShape(parts?.[i]), nextUnits?.[i])
    );
  }
  // A decision made without the store (`quotaUnknown`) reports no parts; the policies are
  // still the limiter's own, and stay the same from one response to the next.
  if (decision.quotaUnknown === true && parts !== undefined && parts.length > 1) {
    return parts.map((part, i) =>
      viewOf(partName(i), { ...decision, limit: part.limit ?? decision.limit }, partShape(part))
    );
  }
  return [viewOf(name, decision, shape, nextUnits?.[0])];
}

function partShape(part: LimitShape | undefined): LimitShape {
  return { windowMs: windowMsOf(part?.windowMs), unitMs: part?.unitMs };
}

/**
 * The response fields for `views` in `style`, as `[name, value]` pairs. Several views become one
 * SF List in draft-11; the older dialects can say only one thing, so they describe the view with
 * the fewest units left. Without `known` (the limiter decided without knowing the quota's state)
 * only the policy is written: `r` and `t` would be made up.
 */
export function fieldsOf(
  style: HeaderStyle,
  views: readonly QuotaView[],
  extras: FieldExtras,
  nowMs: number,
  known = true,
): [string, string][] {
  if (views.length === 0) return [];
  // Every dialect writes the policy (legacy: the limit) first, the state after it.
  if (!known) return fieldsOf(style, views, extras, nowMs).slice(0, 1);
  if (style === "draft-11") {
    const pk = extras.partitionKey === undefined ? "" : `;pk=${extras.partitionKey}`;
    const qu = extras.quotaUnit === undefined ? "" : `;qu=${sfString(extras.quotaUnit)}`;
    const policy = views.map((v) =>
      `${sfString(v.name)};q=${v.quota}${v.window === undefined ? "" : `;w=${v.window}`}${qu}${pk}`
    );
    const state = views.map((v) => `${sfString(v.name)};r=${v.remaining};t=${v.reset}${pk}`);
    return [["RateLimit-Policy", policy.join(", ")], ["RateLimit", state.join(", ")]];
  }
  const tightest = views.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  if (style === "draft-7") {
    const policy = views.map((v) => `${v.quota}${v.window === undefined ? "" : `;w=${v.window}`}`);
    return [
      ["RateLimit-Policy", policy.join(", ")],
      [
        "RateLimit",
        `limit=${tightest.quota}, remaining=${tightest.remaining}, reset=${tightest.reset}`,
      ],
    ];
  }
  return [
    ["X-RateLimit-Limit", String(tightest.quota)],
    ["X-RateLimit-Remaining", String(tightest.remaining)],
    // The legacy reset is a Unix time in seconds (GitHub's and express-rate-limit's reading).
    ["X-RateLimit-Reset", String(fieldInteger(Math.ceil(nowMs / 1000) + tightest.reset))],
  ];
}

/**
 * The draft-11 `pk` value for `key`: the first 12 bytes of its SHA-256 as an SF Byte Sequence,
 * so the field tells a client which partition it is in without carrying the key itself.
 */
export async function partitionKeyOf(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  const bytes = new Uint8Array(digest, 0, 12);
  return `:${btoa(String.fromCharCode(...bytes))}:`;
}
