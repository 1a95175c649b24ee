/**
 * Credentials for a {@linkcode Pool}: a token provider, or several tokens in rotation.
 *
 * @module
 */

import { checkAuthHeader, checkAuthScheme, isHeaderSafe } from "./_pool_validate.ts";

/** Something that hands out an access token, fetched lazily and cached by the pool. */
export interface TokenProvider {
  /** Returns a valid token; called once at first use and again after a 401. */
  token(): string | Promise<string>;
}

/** The `auth` option of a {@linkcode Pool}: a token provider and how the token is sent. */
export interface AuthOptions extends TokenProvider {
  /**
   * The request header that carries the token.
   * @default {"authorization"}
   */
  header?: string;
  /**
   * The word before the token in the header; `""` sends the bare token.
   * @default {"Bearer"}
   */
  scheme?: string;
}

/** Options for {@linkcode tokens}. */
export interface TokensOptions {
  /**
   * `"round-robin"` takes the tokens in turn; `"least-recently-used"` takes the token with the
   * fewest requests in flight, the least recently picked among equals.
   * @default {"round-robin"}
   */
  strategy?: "round-robin" | "least-recently-used";
  /**
   * The request header that carries the token.
   * @default {"authorization"}
   */
  header?: string;
  /**
   * The word before the token in the header; `""` sends the bare token.
   * @default {"Bearer"}
   */
  scheme?: string;
}

/**
 * Several tokens used in rotation by a {@linkcode Pool}, each counted against its own rate
 * limit key (`token#0`, `token#1`, … — never the token itself). Make one with
 * {@linkcode tokens}.
 */
export class TokenRotation {
  /** The tokens or providers, in order. */
  readonly sources: readonly (string | TokenProvider)[];
  /** How the next token is chosen. */
  readonly strategy: "round-robin" | "least-recently-used";
  /** The request header that carries the token. */
  readonly header: string;
  /** The word before the token. */
  readonly scheme: string;

  /**
   * Creates the rotation.
   * @param sources Static tokens or providers.
   * @param options The strategy, header and scheme.
   * @throws {TypeError} when `sources` is empty or holds something else.
   */
  constructor(sources: readonly (string | TokenProvider)[], options: TokensOptions = {}) {
    const { strategy = "round-robin", header = "authorization", scheme = "Bearer" } = options;
    if (!Array.isArray(sources) || sources.length === 0) {
      throw new TypeError(
        `Cannot create TokenRotation as 'sources' must be a non-empty array: received ${
          Array.isArray(sources) ? "[]" : typeof sources
        }`,
      );
    }
    sources.forEach((source, i) => {
      // The value may be a secret: name its type, never its content.
      if (typeof source !== "string" && typeof source?.token !== "function") {
        throw new TypeError(
          `Cannot create TokenRotation as 'sources[${i}]' must be a string or a TokenProvider: received ${typeof source}`,
        );
      }
      if (typeof source === "string" && !isHeaderSafe(source)) {
        throw new TypeError(
          `Cannot create TokenRotation as 'sources[${i}]' must be a token a header can carry (no CR, LF, NUL or character above U+00FF): received a string that is not`,
        );
      }
    });
    if (strategy !== "round-robin" && strategy !== "least-recently-used") {
      throw new TypeError(
        `Cannot create TokenRotation as 'strategy' must be "round-robin" or "least-recently-used": received ${
          JSON.stringify(strategy)
        }`,
      );
    }
    this.sources = [...sources];
    this.strategy = strategy;
    this.header = checkAuthHeader("TokenRotation", "header", header);
    this.scheme = checkAuthScheme("TokenRotation", "scheme", scheme);
  }
}

/**
 * Rotates several tokens (or token providers) across a {@linkcode Pool}'s requests.
 * @param sources Static tokens or providers.
 * @param options The strategy, header and scheme.
 * @returns A rotation for the pool's `auth` option.
 * @throws {TypeError} when `sources` is empty or holds something else.
 *
 * @example Two API keys, one rate limit each
 * ```ts
 * import { Pool, tokens } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const pool = new Pool({
 *   baseUrl: "https://api.example",
 *   auth: tokens(["key-a", "key-b"]),
 *   rateLimit: { rate: 10, burst: 10 },
 *   fetch: (input, init) => {
 *     seen.push(new Headers(init?.headers).get("authorization")!);
 *     return Promise.resolve(new Response("ok"));
 *   },
 * });
 * for (let i = 0; i < 3; i++) await (await pool.fetch("/")).text();
 * assert.deepEqual(seen, ["Bearer key-a", "Bearer key-b", "Bearer key-a"]);
 * await pool.close();
 * ```
 */
export function tokens(
  sources: readonly (string | TokenProvider)[],
  options?: TokensOptions,
): TokenRotation {
  return new TokenRotation(sources, options);
}
