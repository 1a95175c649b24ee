// A value as error messages show it, without echoing objects or functions: a client, its
// options or a key object may hold a credential.

import { describe } from "./validate.ts";

/** `value` for an error message: `"an object"` and `"a function"` instead of their content. */
export function shown(value: unknown): string {
  if (typeof value === "function") return "a function";
  return typeof value === "object" && value !== null ? "an object" : describe(value);
}
