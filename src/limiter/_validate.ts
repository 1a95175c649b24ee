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

function message(owner: string, name: string, rule: string, value: unknown): string {
  return `Cannot create ${owner} as '${name}' must be ${rule}: received ${describe(value)}`;
}

/** Throws the option error: a `RangeError` for a number, else a `TypeError`. */
export function fail(owner: string, name: string, rule: string, value: unknown): never {
  if (typeof value !== "number") throw new TypeError(message(owner, name, rule, value));
  throw new RangeError(message(owner, name, rule, value));
}

/** Throws the option error for a value of the wrong type: always a `TypeError`. */
export function failType(owner: string, name: string, rule: string, value: unknown): never {
  throw new TypeError(message(owner, name, rule, value));
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
