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

/** A clock: anything with a `now()` method. */
export function assertClock<C extends { now(): number }>(owner: string, clock: C): C {
  if (typeof clock?.now !== "function") {
    throw new TypeError(
      `Cannot create ${owner} as 'clock' must have a now() method: received ${describe(clock)}`,
    );
  }
  return clock;
}

/**
 * Throws unless `cost` is a number in `[0, limit]`: a `TypeError` for anything but a number
 * (`"1"`, `null`, `true` are not coerced), a `RangeError` for a number out of range.
 * @param caller What the user called, such as `"FluxLimiter.check()"`.
 */
export function assertCost(cost: unknown, limit: number, caller?: string): asserts cost is number {
  if (typeof cost === "number" && cost >= 0 && cost <= limit) return;
  const message = `Cannot ${
    caller === undefined ? "check a rate limit" : `call ${caller}`
  } as 'cost' must be a finite number from 0 to the capacity ${limit}: received ${describe(cost)}`;
  throw typeof cost === "number" ? new RangeError(message) : new TypeError(message);
}

/** Throws a `TypeError` for a missing key (`undefined` or `null`). */
export function assertKey(key: unknown, caller: string): void {
  if (key === undefined || key === null) {
    throw new TypeError(`Cannot call ${caller} as 'key' must be given: received ${key}`);
  }
}

/**
 * The slow path of a method's argument check, once its inline test has failed: throws the
 * error for the key, else for the cost.
 */
export function rejectArguments(key: unknown, cost: unknown, limit: number, caller: string): never {
  assertKey(key, caller);
  assertCost(cost, limit, caller);
  throw new TypeError(`Cannot call ${caller}: received key ${describe(key)}`);
}
