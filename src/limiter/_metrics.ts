// Validation shared by every limiter that takes a `metrics` option.

import type { LimiterMetrics } from "./metrics.ts";
import { shown } from "../core/shown_value.ts";

const METHODS = ["recordDecision", "recordError", "recordCleanup"] as const;

/** Throws a `TypeError` unless `value` is undefined or has the three LimiterMetrics methods. */
export function assertMetrics(owner: string, value: unknown): LimiterMetrics | undefined {
  if (value === undefined) return undefined;
  const target = value as Record<string, unknown> | null;
  const missing = METHODS.find((name) => typeof target?.[name] !== "function");
  if (missing !== undefined) {
    throw new TypeError(
      `Cannot create ${owner} as 'metrics' must implement LimiterMetrics (no ${missing}() method): received ${
        shown(value)
      }`,
    );
  }
  return value as LimiterMetrics;
}
