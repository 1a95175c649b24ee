// The pure part of QuotaManager: validating quota definitions and deciding one request against
// the usage counters of the current windows. Store-backed quota managers reuse both.

import type { QuotaDecision, QuotaDefinition, QuotaStatus } from "./quota_manager.ts";
import { isQuotaPeriod, type QuotaWindow } from "./_quota_window.ts";
import { describe, integer } from "../core/validate.ts";

/** Validates `quotas` and returns a frozen copy. */
export function parseQuotas(owner: string, quotas: unknown): readonly QuotaDefinition[] {
  if (!Array.isArray(quotas) || quotas.length === 0) {
    throw new TypeError(
      `Cannot create ${owner} as 'quotas' must be a non-empty array of { name, limit, period }: received ${
        describe(quotas)
      }`,
    );
  }
  const names = new Set<string>();
  return Object.freeze(quotas.map((quota: Partial<QuotaDefinition> | null, i) => {
    const { name, limit, period } = quota ?? {};
    const at = `quotas[${i}]`;
    if (typeof name !== "string" || name === "") {
      throw new TypeError(
        `Cannot create ${owner} as '${at}.name' must be a non-empty string: received ${
          describe(name)
        }`,
      );
    }
    if (names.has(name)) {
      throw new TypeError(
        `Cannot create ${owner} as '${at}.name' must be unique: received ${describe(name)} twice`,
      );
    }
    names.add(name);
    integer(owner, `${at}.limit`, limit, 1);
    if (!isQuotaPeriod(period)) {
      const message = `Cannot create ${owner} as '${at}.period' must be "hour", "day", "month" ` +
        `or a finite number of ms > 0: received ${describe(period)}`;
      throw typeof period === "number" ? new RangeError(message) : new TypeError(message);
    }
    return Object.freeze({ name, limit: limit as number, period });
  }));
}

/**
 * Decides a request of `cost` units against `used`, the units already counted in each quota's
 * current window. All or nothing: the request is allowed only when every quota has room, and
 * the returned usage includes it only then.
 */
export function decideQuotas(
  quotas: readonly QuotaDefinition[],
  windows: readonly QuotaWindow[],
  used: readonly number[],
  now: number,
  cost: number,
): QuotaDecision {
  const allowed = quotas.every((quota, i) => used[i] + cost <= quota.limit);
  const statuses = quotas.map((quota, i): QuotaStatus => {
    const units = allowed ? used[i] + cost : used[i];
    return {
      name: quota.name,
      limit: quota.limit,
      used: units,
      remaining: quota.limit - units,
      resetAfterMs: units > 0 ? windows[i].end - now : 0,
      windowMs: windows[i].end - windows[i].start,
    };
  });
  const binding = allowed ? tightest(statuses) : lastToReset(statuses, cost);
  return {
    allowed,
    limit: binding.limit,
    remaining: binding.remaining,
    retryAfterMs: allowed ? 0 : binding.resetAfterMs,
    resetAfterMs: binding.resetAfterMs,
    quota: binding.name,
    quotas: statuses,
  };
}

// After an allowed request: the quota with the fewest units left, then the latest reset.
function tightest(statuses: QuotaStatus[]): QuotaStatus {
  return statuses.reduce((best, s) =>
    s.remaining < best.remaining ||
      (s.remaining === best.remaining && s.resetAfterMs > best.resetAfterMs)
      ? s
      : best
  );
}

// After a denial: a request waits until every quota that denies it has reset, so the binding
// quota is the denying one that resets last (then the one with fewer units left).
function lastToReset(statuses: QuotaStatus[], cost: number): QuotaStatus {
  return statuses.filter((s) => s.remaining < cost).reduce((best, s) =>
    s.resetAfterMs > best.resetAfterMs ||
      (s.resetAfterMs === best.resetAfterMs && s.remaining < best.remaining)
      ? s
      : best
  );
}
