// HTTP-dates and delay bounds for the rate-limit header parsers.

/** The longest delay a header may ask for: one year. Longer values are cut down to it. */
export const MAX_HEADER_DELAY_MS = 365 * 24 * 3600 * 1000;

const DAYS = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAYS = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = `(${MONTHS.join("|")})`;
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients accept.
const IMF_FIXDATE = new RegExp(`^${DAYS}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAYS}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAYS} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * Reads an HTTP-date in any of the three forms RFC 9110 §5.6.7 asks recipients to accept.
 * @returns Milliseconds since the epoch, or `undefined` when `text` is not a valid HTTP-date.
 */
export function parseHttpDate(text: string, now: number): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return toUtc(+m[3], m[2], +m[1], m[4], m[5], m[6]);
  m = RFC850_DATE.exec(text);
  if (m) {
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    const yy = +m[3];
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return toUtc(year, m[2], +m[1], m[4], m[5], m[6]);
  }
  m = ASCTIME_DATE.exec(text);
  if (m) return toUtc(+m[6], m[1], +m[2].trim(), m[3], m[4], m[5]);
  return undefined;
}

function toUtc(
  year: number,
  month: string,
  day: number,
  hours: string,
  minutes: string,
  seconds: string,
): number | undefined {
  const h = +hours, mi = +minutes, s = +seconds;
  if (day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const monthIndex = MONTHS.indexOf(month);
  const ms = Date.UTC(year, monthIndex, day, h, mi, Math.min(s, 59));
  // Reject dates that do not exist (31 Feb) instead of letting Date roll them over.
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}

/** Bounds a delay taken from a header to `[0, MAX_HEADER_DELAY_MS]`. */
export function bound(ms: number): number | undefined {
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_HEADER_DELAY_MS);
}
