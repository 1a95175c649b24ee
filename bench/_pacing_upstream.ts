// The scenario harness of issue 13: a loopback upstream that enforces one rate-limit policy and
// announces it in one header dialect (with its clock optionally skewed from the client's), and a
// driver that measures goodput (the ideal time the policy allows for a batch / the wall time)
// and the share of rejected answers. The tests run it in process with small sizes; the bench
// (bench/pacing_report.ts) runs it in its own process with the full sizes.

/** How the upstream decides. `fixed-up`/`fixed-down` round the announced `t` up or down. */
export type PolicyKind =
  | "gcra"
  | "fixed-up"
  | "fixed-down"
  | "sliding"
  | "token"
  | "concurrency";

/** How the upstream announces its policy. */
export type Dialect =
  | "draft11" // RateLimit-Policy / RateLimit
  | "legacy" // RateLimit-Limit / -Remaining / -Reset (delta seconds)
  | "draft7" // RateLimit: limit=, remaining=, reset= and RateLimit-Policy: q;w=
  | "x-delta" // X-RateLimit-Limit / -Remaining / -Reset (delta seconds)
  | "x-epoch" // X-RateLimit-Reset as epoch seconds of the server's clock, with Date
  | "github" // x-epoch, but a spent quota answers 403
  | "retry-after" // a 429 with Retry-After, nothing else
  | "none" // a bare 429
  | "openai" // x-ratelimit-{limit,remaining,reset}-requests, reset as a duration; retry-after-ms
  | "anthropic"; // anthropic-ratelimit-requests-{limit,remaining,reset}, RFC 3339; retry-after

/** One upstream: a policy, its size, a dialect, latency and clock skew. */
export interface Scenario {
  policy: PolicyKind;
  dialect: Dialect;
  /** Requests per window (for `concurrency`: requests at once). */
  limit: number;
  windowMs: number;
  /** Back-to-back requests from idle for `gcra` and `token`. */
  burst: number;
  /** How long the server takes to answer, in ms. */
  latencyMs: number;
  /** The server's clock minus the client's, in ms (negative: the client is ahead). */
  skewMs?: number;
}

// The state of a policy: may one request pass now, and what to announce.
interface Decision {
  allowed: boolean;
  remaining: number;
  /** ms until more quota is available (the draft-11 `t`), before rounding. */
  resetMs: number;
  /** ms a rejected request should wait. */
  retryMs: number;
  /** ms until the quota is whole again (OpenAI's and Anthropic's reset). */
  fullMs: number;
}

function secondsUp(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000 - 1e-9));
}

// The AI-API dialects announce the request quota alone (no token headers: the scenario counts
// requests, and a token budget that never binds would only add fields), each reset being the time
// until the quota is whole again. What the formats were checked against:
// - OpenAI: `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests` and
//   `x-ratelimit-reset-requests`, "the time until the rate limit (based on requests) resets to its
//   initial state" (platform.openai.com/docs/guides/rate-limits, as quoted on
//   community.openai.com/t/535297), a Go-style duration: `12ms` (and `9ms` for tokens) in a real
//   answer quoted on community.openai.com/t/1268905; `6s` and `1m` in third-party guides. On a
//   429, `retry-after-ms` in milliseconds, which the openai-node client reads before
//   `Retry-After` (its retryRequest: the header "may not be standard").
// - Anthropic: `anthropic-ratelimit-requests-{limit,remaining,reset}`, the reset an RFC 3339 time
//   shown in whole seconds (`2025-01-15T14:24:00Z`, delimiter.app/docs/providers/anthropic; the
//   same form in third-party guides); on a 429, `retry-after` in seconds. Third-party guides
//   describe its limits as buckets refilled continuously; the reset is read as the time the quota
//   is full again (issue 13, the parser), and the search found no first-party page to quote.

// A Go-style duration as OpenAI sends it: `850ms` below a second, else `1s`, `1.25s`, `6m0s`,
// `1h0m0s` (milliseconds rounded up).
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms - 1e-9));
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = `${(total % 60_000) / 1000}s`;
  return h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
}

// An RFC 3339 timestamp in UTC, rounded up to a whole second (`2026-11-30T01:02:03Z`).
export function rfc3339Up(ms: number): string {
  return new Date(Math.ceil(ms / 1000 - 1e-9) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** The upstream: call {@linkcode Upstream.handle} from `Deno.serve`. */
export class Upstream {
  readonly scenario: Scenario;
  accepted = 0;
  rejected = 0;
  firstAt = -1;
  #inflight = 0;
  #tat = 0; // gcra
  #tokens: number; // token bucket
  #filledAt = -1;
  #window = -1; // fixed window index
  #count = 0;
  #log: number[] = []; // sliding log

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    this.#tokens = scenario.burst;
  }

  #now(): number {
    return Date.now() + (this.scenario.skewMs ?? 0);
  }

  /** Answers one request: a page of one item, or a rejection. */
  async handle(request: Request): Promise<Response> {
    const s = this.scenario;
    const now = this.#now();
    if (this.firstAt < 0) this.firstAt = performance.now();
    const d = this.#decide(now);
    const url = new URL(request.url);
    const page = Number(url.searchParams.get("page") ?? "1");
    this.#inflight++;
    try {
      await new Promise((resolve) => setTimeout(resolve, s.latencyMs));
    } finally {
      this.#inflight--;
    }
    const headers = this.#fields(d, now);
    headers.set("date", new Date(now).toUTCString());
    if (d.allowed) {
      this.accepted++;
      headers.set("content-type", "application/json");
      return new Response(
        JSON.stringify({ data: [page], pagination: { total_pages: 1_000_000 } }),
        { headers },
      );
    }
    this.rejected++;
    const status = s.policy === "concurrency" ? 503 : s.dialect === "github" ? 403 : 429;
    if (s.dialect === "retry-after" || s.dialect === "anthropic") {
      headers.set("retry-after", String(secondsUp(d.retryMs)));
    }
    if (s.dialect === "openai") headers.set("retry-after-ms", String(Math.ceil(d.retryMs)));
    return new Response("slow down", { status, headers });
  }

  #decide(now: number): Decision {
    const { policy, limit, windowMs, burst } = this.scenario;
    const interval = windowMs / limit;
    switch (policy) {
      case "gcra": {
        const tat = Math.max(this.#tat, now);
        const allowAt = tat - (burst - 1) * interval;
        if (now < allowAt) {
          const wait = allowAt - now;
          return { allowed: false, remaining: 0, resetMs: wait, retryMs: wait, fullMs: tat - now };
        }
        this.#tat = tat + interval;
        const free = burst * interval - (this.#tat - now);
        const remaining = Math.max(0, Math.floor(free / interval + 1e-9));
        return {
          allowed: true,
          remaining,
          resetMs: remaining > 0 ? 0 : interval,
          retryMs: 0,
          fullMs: this.#tat - now,
        };
      }
      case "token": {
        if (this.#filledAt < 0) this.#filledAt = now;
        this.#tokens = Math.min(burst, this.#tokens + (now - this.#filledAt) / interval);
        this.#filledAt = now;
        const fullMs = () => (burst - this.#tokens) * interval;
        if (this.#tokens < 1) {
          const wait = (1 - this.#tokens) * interval;
          return { allowed: false, remaining: 0, resetMs: wait, retryMs: wait, fullMs: fullMs() };
        }
        this.#tokens--;
        const remaining = Math.floor(this.#tokens + 1e-9);
        const wait = (1 - (this.#tokens - remaining)) * interval;
        return {
          allowed: true,
          remaining,
          resetMs: remaining > 0 ? 0 : wait,
          retryMs: 0,
          fullMs: fullMs(),
        };
      }
      case "fixed-up":
      case "fixed-down": {
        const window = Math.floor(now / windowMs);
        if (window !== this.#window) {
          this.#window = window;
          this.#count = 0;
        }
        const end = (window + 1) * windowMs - now;
        if (this.#count >= limit) {
          return { allowed: false, remaining: 0, resetMs: end, retryMs: end, fullMs: end };
        }
        this.#count++;
        const remaining = limit - this.#count;
        return { allowed: true, remaining, resetMs: end, retryMs: 0, fullMs: end };
      }
      case "sliding": {
        while (this.#log.length > 0 && this.#log[0] <= now - windowMs) this.#log.shift();
        const oldest = this.#log[0] ?? now;
        const reset = oldest + windowMs - now;
        if (this.#log.length >= limit) {
          // Whole again when the newest request leaves the window.
          const fullMs = this.#log[this.#log.length - 1] + windowMs - now;
          return { allowed: false, remaining: 0, resetMs: reset, retryMs: reset, fullMs };
        }
        this.#log.push(now);
        const remaining = limit - this.#log.length;
        const resetMs = this.#log[0] + windowMs - now;
        return { allowed: true, remaining, resetMs, retryMs: 0, fullMs: windowMs };
      }
      case "concurrency": {
        const allowed = this.#inflight < limit;
        const remaining = Math.max(0, limit - this.#inflight - (allowed ? 1 : 0));
        // Whole again once the requests in flight are answered: within one latency.
        const latency = this.scenario.latencyMs;
        return { allowed, remaining, resetMs: 0, retryMs: latency, fullMs: latency };
      }
    }
  }

  #fields(d: Decision, now: number): Headers {
    const s = this.scenario;
    const headers = new Headers();
    const w = Math.max(1, Math.round(s.windowMs / 1000));
    const t = s.policy === "fixed-down" ? Math.floor(d.resetMs / 1000) : secondsUp(d.resetMs);
    const q = s.limit;
    const concurrent = s.policy === "concurrency";
    switch (s.dialect) {
      case "draft11":
        headers.set(
          "ratelimit-policy",
          concurrent ? `"c";q=${q};qu="concurrent-requests"` : `"p";q=${q};w=${w}`,
        );
        headers.set("ratelimit", `"${concurrent ? "c" : "p"}";r=${d.remaining};t=${t}`);
        break;
      case "legacy":
        headers.set("ratelimit-limit", String(q));
        headers.set("ratelimit-remaining", String(d.remaining));
        headers.set("ratelimit-reset", String(t));
        break;
      case "draft7":
        headers.set("ratelimit-policy", `${q};w=${w}`);
        headers.set("ratelimit", `limit=${q}, remaining=${d.remaining}, reset=${t}`);
        break;
      case "x-delta":
        headers.set("x-ratelimit-limit", String(q));
        headers.set("x-ratelimit-remaining", String(d.remaining));
        headers.set("x-ratelimit-reset", String(t));
        break;
      case "x-epoch":
      case "github": {
        const reset = s.policy === "fixed-down"
          ? Math.floor((now + d.resetMs) / 1000)
          : secondsUp(now + d.resetMs);
        headers.set("x-ratelimit-limit", String(q));
        headers.set("x-ratelimit-remaining", String(d.remaining));
        headers.set("x-ratelimit-reset", String(reset));
        if (s.dialect === "github") headers.set("x-ratelimit-resource", "core");
        break;
      }
      case "openai":
        headers.set("x-ratelimit-limit-requests", String(q));
        headers.set("x-ratelimit-remaining-requests", String(d.remaining));
        headers.set("x-ratelimit-reset-requests", goDuration(d.fullMs));
        break;
      case "anthropic":
        headers.set("anthropic-ratelimit-requests-limit", String(q));
        headers.set("anthropic-ratelimit-requests-remaining", String(d.remaining));
        headers.set("anthropic-ratelimit-requests-reset", rfc3339Up(now + d.fullMs));
        break;
    }
    return headers;
  }

  /**
   * The shortest wall time in which the policy lets `n` requests through, counted from the
   * first request the server saw, plus one answer's latency. A concurrency limit's slot is free
   * again only once its answer has reached the client and the next request has reached the
   * server: each round takes `roundTripMs`, the round trip of one request on the same upstream
   * with nothing limiting it (the latency alone when not measured).
   */
  idealMs(
    n: number,
    startedAt = Date.now() + (this.scenario.skewMs ?? 0),
    roundTripMs = this.scenario.latencyMs,
  ): number {
    const { policy, limit, windowMs, burst, latencyMs } = this.scenario;
    const interval = windowMs / limit;
    switch (policy) {
      case "gcra":
      case "token":
        return Math.max(0, n - burst) * interval + latencyMs;
      case "sliding":
        return (Math.ceil(n / limit) - 1) * windowMs + latencyMs;
      case "fixed-up":
      case "fixed-down": {
        const first = Math.floor(startedAt / windowMs);
        const last = first + Math.ceil(n / limit) - 1;
        return Math.max(0, last * windowMs - startedAt) + latencyMs;
      }
      case "concurrency":
        return Math.ceil(n / limit) * roundTripMs;
    }
  }
}

/** What one run measured. */
export interface Measured {
  wallMs: number;
  idealMs: number;
  goodput: number;
  accepted: number;
  rejected: number;
  /** Rejected answers over all answers. */
  rejectShare: number;
  /** Requests the client gave up on, resubmitted by the driver. */
  failures: number;
  /** Goodput against the latency alone, where the ideal counted a measured round trip. */
  latencyGoodput?: number;
}

/**
 * Runs `n` requests from `callers` concurrent callers through `send` (which resolves true when
 * the request succeeded; a failed request is sent again, as a user's loop would), against
 * `upstream`, and measures it.
 */
export async function drive(
  upstream: Upstream,
  n: number,
  callers: number,
  send: (index: number) => Promise<boolean>,
): Promise<Measured> {
  let next = 0, failures = 0;
  const start = performance.now();
  const serverStart = Date.now() + (upstream.scenario.skewMs ?? 0);
  async function caller(): Promise<void> {
    while (next < n) {
      const i = next++;
      for (let tries = 0; !(await send(i)); tries++) {
        failures++;
        if (tries > 50) throw new Error(`request ${i} failed 50 times`);
      }
    }
  }
  await Promise.all(Array.from({ length: callers }, caller));
  return measure(upstream, n, start, serverStart, failures);
}

/**
 * Measures a run that started at `start` (performance.now()) and has just ended; `roundTripMs`
 * as in {@linkcode Upstream.idealMs}.
 */
export function measure(
  upstream: Upstream,
  n: number,
  start: number,
  serverStart: number,
  failures = 0,
  roundTripMs?: number,
): Measured {
  const wallMs = performance.now() - start;
  const idealMs = upstream.idealMs(n, serverStart, roundTripMs);
  const { accepted, rejected } = upstream;
  return {
    wallMs,
    idealMs,
    goodput: idealMs / wallMs,
    accepted,
    rejected,
    rejectShare: rejected / Math.max(1, accepted + rejected),
    failures,
  };
}

/** Serves `upstream` on loopback. */
export function serveUpstream(upstream: Upstream): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => upstream.handle(request),
  );
}
