// The checks of the stores' constructor arguments, worded like every other constructor's:
// "Cannot create X as 'opt' must be ...: received V". Objects and functions are not echoed: a
// client or an options object may hold a credential.

import type { Clock } from "../core/clock.ts";
import { shown } from "../core/shown_value.ts";

export { shown };

/** Throws the `TypeError` of a wrong-typed argument. */
export function wrongType(owner: string, name: string, rule: string, value: unknown): never {
  throw new TypeError(
    `Cannot create ${owner} as '${name}' must be ${rule}: received ${shown(value)}`,
  );
}

/** The options object, `{}` when absent. */
export function optionsOf<T extends object>(owner: string, options: T | undefined): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    wrongType(owner, "options", "an object", options);
  }
  return options;
}

/** `value` when it has every method in `methods`. */
export function withMethods<T>(
  owner: string,
  name: string,
  value: T,
  methods: readonly string[],
  rule: string,
): T {
  const target = value as Record<string, unknown> | null | undefined;
  const callable = (typeof value === "object" || typeof value === "function") && value !== null &&
    methods.every((method) => typeof target?.[method] === "function");
  if (!callable) wrongType(owner, name, rule, value);
  return value;
}

/** An optional clock: `undefined`, or anything with `now()`. */
export function optionalClock(owner: string, clock: unknown): Clock | undefined {
  if (clock === undefined) return undefined;
  return withMethods(owner, "clock", clock as Clock, ["now"], "a Clock with now()");
}
