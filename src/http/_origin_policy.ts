// Which origins receive a pool's credentials: baseUrl's, and the `trustedOrigins` the user
// names. Every credential decision (the first request, each redirect hop) asks this one object.

import { isSameOrigin, originOf } from "../core/url.ts";

/**
 * Headers stripped on the way to an untrusted origin whatever `credentialHeaders` says: the
 * Fetch standard's own (Authorization, Cookie, Proxy-Authorization) and the API-key headers in
 * common use (AWS API Gateway, Azure, GitLab, OpenStack and many more). Sending one of these to
 * another origin is never what a pool-wide header meant.
 */
export const DEFAULT_CREDENTIAL_HEADERS: readonly string[] = [
  "authorization",
  "cookie",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "private-token",
  "x-auth-token",
  "x-access-token",
];

export class OriginPolicy {
  /** baseUrl, parsed, or undefined. */
  readonly base: URL | undefined;
  /** `scheme://host[:port]` of baseUrl, or undefined. */
  readonly baseOrigin: string | undefined;
  readonly #others: ReadonlySet<string>;

  constructor(base: URL | undefined, others: readonly string[]) {
    this.base = base;
    this.baseOrigin = base?.origin;
    this.#others = new Set(others);
  }

  /** Whether the pool's credentials may go to `url`. */
  trusts(url: string): boolean {
    if (this.baseOrigin !== undefined && isSameOrigin(url, this.baseOrigin)) return true;
    return this.#others.size > 0 && this.trustsOrigin(originOf(url));
  }

  /** Whether the pool's credentials may go to `origin` (as `URL.origin` spells it). */
  trustsOrigin(origin: string | undefined): boolean {
    return origin !== undefined && (origin === this.baseOrigin || this.#others.has(origin));
  }
}
