// Shared option validation, so every constructor words its errors the same way:
// "Cannot create X as 'opt' must be ...: received V".

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" && Object.is(value, -0)) return "-0";
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Throws "Cannot create `owner` as `name` must be `rule`": a RangeError for numbers, else a TypeError. */
export function fail(owner: string, name: string, rule: string, value: unknown): never {
  return invalid(`create ${owner}`, name, rule, value);
}

/**
 * As {@linkcode fail} for other actions than creating: "Cannot `action` as `name` must be …".
 * `type` overrides the class, e.g. a TypeError for a number where a function belongs.
 */
export function invalid(
  action: string,
  name: string,
  rule: string,
  value: unknown,
  type: ErrorConstructor = typeof value === "number" ? RangeError : TypeError,
): never {
  throw new type(`Cannot ${action} as '${name}' must be ${rule}: received ${describe(value)}`);
}

/** A finite number > 0. */
export function positive(owner: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    fail(owner, name, "a finite number > 0", value);
  }
  return value;
}

/** A finite number >= 0. */
export function nonNegative(owner: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(owner, name, "a finite number >= 0", value);
  }
  return value;
}

/** An integer >= min (Infinity allowed when `allowInfinity`). */
export function integer(
  owner: string,
  name: string,
  value: unknown,
  min: number,
  allowInfinity = false,
): number {
  if (
    typeof value !== "number" ||
    !(Number.isInteger(value) || (allowInfinity && value === Infinity)) || value < min
  ) {
    fail(owner, name, `an integer >= ${min}`, value);
  }
  return value;
}

/** Throws a `RangeError` unless `cost` is a finite number in `[0, limit]`. */
export function assertCost(cost: number, limit: number): void {
  if (!(cost >= 0 && cost <= limit)) {
    throw new RangeError(
      `Cannot check a rate limit as 'cost' must be a finite number from 0 to the capacity ${limit}: received ${
        describe(cost)
      }`,
    );
  }
}
