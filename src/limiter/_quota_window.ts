// Calendar arithmetic for QuotaManager: the fixed window that contains a given instant.
// Pure, so that store-backed quota managers share it.

/** A quota period: a calendar unit in UTC, or a length in ms aligned to multiples of it. */
export type QuotaPeriod = "hour" | "day" | "month" | number;

/** The half-open window `[start, end)` in ms since the epoch. */
export interface QuotaWindow {
  start: number;
  end: number;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The window of `period` that contains `now` (ms since the epoch, UTC). */
export function windowAt(period: QuotaPeriod, now: number): QuotaWindow {
  if (period === "month") {
    // Date.UTC normalizes month 12 to January of the next year, and months have 28 to 31 days,
    // so the calendar (leap years included) does the work instead of a fixed length.
    const date = new Date(now);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth();
    return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
  }
  // ECMAScript time has no leap seconds: every UTC day is exactly 86 400 000 ms, so hours and
  // days align on plain multiples since the epoch.
  const length = period === "hour" ? HOUR : period === "day" ? DAY : period;
  const start = Math.floor(now / length) * length;
  return { start, end: start + length };
}

/** Whether `value` is a valid {@linkcode QuotaPeriod}. */
export function isQuotaPeriod(value: unknown): value is QuotaPeriod {
  if (typeof value === "number") return Number.isFinite(value) && value > 0;
  return value === "hour" || value === "day" || value === "month";
}
