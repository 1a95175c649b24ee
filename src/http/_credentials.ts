// Token caching and rotation behind a pool's `auth` option. One acquisition is shared by
// concurrent callers; a 401 invalidates the token that was sent, and only that one, so a burst
// of 401s triggers a single refresh.

import { type AuthOptions, type TokenProvider, TokenRotation } from "./auth.ts";
import { checkAuthHeader, checkAuthScheme, isHeaderSafe } from "./_pool_validate.ts";

export class CredentialSlot {
  /** The rate-limit key of this credential, or undefined for the pool's only credential. */
  readonly key: string | undefined;
  inflight = 0;
  picked = 0;
  #source: string | TokenProvider;
  #token: string | undefined;
  #pending: Promise<string> | undefined;

  constructor(source: string | TokenProvider, key: string | undefined) {
    this.#source = source;
    this.key = key;
    if (typeof source === "string") this.#token = source;
  }

  /** The cached token, or a shared acquisition of a new one. */
  token(): string | Promise<string> {
    if (this.#token !== undefined) return this.#token;
    return this.#pending ??= this.#acquire();
  }

  async #acquire(): Promise<string> {
    try {
      const token = await (this.#source as TokenProvider).token();
      if (typeof token !== "string") {
        throw new TypeError(
          `Cannot authenticate as the token provider must return a string: received ${typeof token}`,
        );
      }
      // Checked here, once per token: the Headers API would reject it with an error quoting
      // the token, and a retry would only send it again.
      if (!isHeaderSafe(token)) {
        throw new TypeError(
          "Cannot authenticate as the token provider returned a token a header cannot carry (it holds CR, LF, NUL or a character above U+00FF)",
        );
      }
      this.#token = token;
      return token;
    } finally {
      this.#pending = undefined;
    }
  }

  /** Whether a refresh can give a different token. */
  get refreshable(): boolean {
    return typeof this.#source !== "string";
  }

  /** Forgets `stale` if it is still the cached token, so the next use acquires a new one. */
  invalidate(stale: string): void {
    if (typeof this.#source !== "string" && this.#token === stale) this.#token = undefined;
  }
}

export class Credentials {
  readonly header: string;
  readonly scheme: string;
  readonly #slots: CredentialSlot[];
  readonly #leastUsed: boolean;
  #next = 0;
  #tick = 0;

  constructor(auth: AuthOptions | TokenRotation) {
    if (auth instanceof TokenRotation) {
      this.#slots = auth.sources.map((s, i) => new CredentialSlot(s, `token#${i}`));
      this.#leastUsed = auth.strategy === "least-recently-used";
      this.header = auth.header;
      this.scheme = auth.scheme;
    } else {
      if (typeof auth?.token !== "function") {
        throw new TypeError(
          `Cannot create Pool as 'auth' must have a token() method or come from tokens(): received ${typeof auth}`,
        );
      }
      this.#slots = [new CredentialSlot(auth, undefined)];
      this.#leastUsed = false;
      this.header = checkAuthHeader("Pool", "auth.header", auth.header ?? "authorization");
      this.scheme = checkAuthScheme("Pool", "auth.scheme", auth.scheme ?? "Bearer");
    }
  }

  /** The credential for the next request. */
  pick(): CredentialSlot {
    const slots = this.#slots;
    if (slots.length === 1) return slots[0];
    let slot: CredentialSlot;
    if (this.#leastUsed) {
      slot = slots[0];
      for (let i = 1; i < slots.length; i++) {
        const s = slots[i];
        if (
          s.inflight < slot.inflight || (s.inflight === slot.inflight && s.picked < slot.picked)
        ) {
          slot = s;
        }
      }
    } else {
      slot = slots[this.#next];
      this.#next = (this.#next + 1) % slots.length;
    }
    slot.picked = ++this.#tick;
    return slot;
  }

  /** The header value for `token`. */
  value(token: string): string {
    return this.scheme === "" ? token : `${this.scheme} ${token}`;
  }
}
