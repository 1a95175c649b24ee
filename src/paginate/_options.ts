// Checks for the options of paginate(), pages(), the strategies and ApiTable, worded like every
// other option check of fluxpool ("Cannot create X as 'opt' must be ...: received V").
import { failType, invalid } from "../core/validate.ts";
import { isHttpUrl } from "../core/url.ts";

/** The options object itself: an object or undefined. */
export function optionsOf<T extends object>(owner: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    failType(owner, "options", "an object", value);
  }
  return value;
}

/** A function, or undefined when `optional`. */
export function func(owner: string, name: string, value: unknown, optional = true): void {
  if (typeof value === "function" || (optional && value === undefined)) return;
  failType(owner, name, optional ? "a function when set" : "a function", value);
}

/** A non-empty string. */
export function text(owner: string, name: string, value: unknown): void {
  if (typeof value !== "string" || value === "") {
    failType(owner, name, "a non-empty string", value);
  }
}

/** A string, or undefined. */
export function optionalString(owner: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "string") {
    failType(owner, name, "a string when set", value);
  }
}

/** A boolean. */
export function flag(owner: string, name: string, value: unknown): void {
  if (typeof value !== "boolean") failType(owner, name, "true or false", value);
}

/** An AbortSignal, or undefined; `action` as for `invalid` ("create paginate"). */
export function signalOf(action: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    invalid(action, "signal", "an AbortSignal when set", value, TypeError);
  }
  return value;
}

/**
 * An absolute http(s) URL; returns it parsed. Of a URL with another scheme only the scheme is
 * shown, so no path, query or credential is echoed.
 */
export function httpUrl(owner: string, name: string, value: unknown): URL {
  const text = value instanceof URL ? value.href : value;
  if (typeof text !== "string" || !URL.canParse(text)) {
    return failType(owner, name, "an absolute URL", text);
  }
  const url = new URL(text);
  if (!isHttpUrl(url)) failType(owner, name, "an http: or https: URL", `${url.protocol}…`);
  return url;
}

/** A pagination strategy: `first`, `items` and `next`, and the optional methods as functions. */
export function strategyOf(owner: string, value: unknown): void {
  if (value === null || typeof value !== "object") {
    failType(owner, "strategy", "a pagination strategy (an object)", value);
  }
  const strategy = value as Record<string, unknown>;
  for (const method of ["first", "items", "next"]) {
    func(owner, `strategy.${method}`, strategy[method], false);
  }
  for (const method of ["ahead", "totalPages", "totalItems", "repeats"]) {
    func(owner, `strategy.${method}`, strategy[method]);
  }
}
