// The per-key state of a ServerPacer as pure transitions, without timers or waiters:
// what the server said (pace, budgets, holds) and how many requests are in flight.

import { MAX_SERVER_POLICIES, type ServerRateLimit } from "./ratelimit_headers.ts";
import { isRateLimitAnswer } from "./_rate_limited.ts";

/** The caps and defaults a pacer applies to what servers say. */
export interface PaceLimits {
  readonly maxHoldMs: number;
  readonly fallbackWindowMs: number;
  readonly maxPacedWindowMs: number;
  readonly probeFirst: boolean;
}

/** A quota that refills continuously: the pace it is sent at. */
interface Bucket {
  rate: number; // requests/s
  max: number; // the most remaining seen: the bucket is full there
  rejections: number;
}

interface Budget {
  remaining: number; // requests still allowed until `until`
  until: number;
  quota?: number; // `q`: what a new window allows, when the server said
  windowMs?: number; // `w`
  renewed?: boolean; // its quota is back by the clock, not by what the server reported
  untimed?: boolean; // the server gave no reset in the future (0, or past): `until` is a guess
  early?: number; // spent: when the key's own requests leave room for one more (see learnRun)
}

/** What the pacer knows about one key. */
export interface PaceState {
  known: boolean; // the server said something about this key
  answered: boolean; // the server answered a request for this key
  intervalMs: number; // pacing: ms between requests, 0 when not paced
  paceId: string | undefined; // the policy whose requests the pace spreads (all: undefined)
  tat: number; // pacing: when the next request is due
  budgets: Map<string, Budget>; // spendable quota per policy, counted down by each request
  routes: Map<string, string[]>; // which budgets a route's answers report (separate quotas)
  holdUntil: number;
  holds: Map<string, number>; // until when a rejection naming a spent quota holds its requests
  maxInflight: number; // from a `qu="concurrent-requests"` policy, else Infinity
  concurrent: number; // a request quota found to count requests at once (0: none found)
  concurrentOff: boolean; // a rate-limit answer showed it was not: never again for this key
  concurrentHits: number; // answers in a row whose remaining + in flight matched the quota
  concurrentRises: number; // of those, how many reported more left than the answer before
  concurrentLast: number; // the remaining count of the last answer
  concurrentWhole: number; // answers in a row that found the quota whole but for themselves
  concurrentOks: number; // successes since a cap set by 503s that said no limit last moved
  starts: number[]; // requests in flight when each unanswered request started, oldest first
  startedAt: number[]; // when each unanswered request started (with `starts`)
  probing: boolean; // one request at a time until the server answers
  answers: number; // answers seen (slow start of a key the server has not described)
  gatedSince: number; // when the slow start last held a request back without an answer since
  aimdRate: number; // requests/s found by AIMD after bare 429s, 0 until the first one
  aimdFast: boolean; // between the first and second decrease: the first guess may be far low
  aimdDecreasedAt: number; // when AIMD last decreased: rejections of requests sent before belong to it
  aimdCeiling: number; // AIMD climbs no higher (Infinity until its second decrease)
  aimdStreak: number; // rate-limit answers in a row since the last success
  oks: number[]; // when the latest successful answers arrived (at most MAX_OKS)
  inflight: number;
  seen: number; // of those in flight, how many the server has answered (not yet released)
  bucket: Bucket | undefined; // a quota without a window found to refill continuously
  bucketOff: boolean; // a rejection showed the refill guess wrong: never again for this key
  emptyResetMs: number; // the reset announced when a quota without a window was last spent
  short: boolean; // the first answer of the key found its quota without a window far from whole
  afterReset: number; // the quota of a spent window that just ended, until the next answer
  wholeAtReset: boolean; // a spent quota without a window came back whole at its reset
  afterTimedReset: boolean; // `afterReset` is that of a reset the server gave (not 0 or past)
  renewedAtReset: boolean; // a quota was renewed whole at its reset since the last answer
  wholeLast: number; // the remaining count of the last answer's quota without a window
  wholeAtResetOff: boolean; // renewed so, it drew a rejection: probed again, for good
  afterEarly: boolean; // the probe in flight left before the reset, when the key's count allowed
  runLog: number[]; // a quota without a window: its own answers since its window began, in order
  runId: string; // which quota (its name, partition and size)
  runStart: number; // when that window's first answer came
  runUntil: number; // the earliest end of that window its answers give
  runOpen: boolean; // answers still agree they belong to that window
  runSpent: boolean; // one of those reported the quota spent: the span is that of a whole quota
  runWhole: boolean; // every reset of those was whole seconds
  runLast: number; // the remaining count of the last answer
  runUntimed: boolean; // its resets were 0 or past (`fallbackWindowMs` stands in)
  tokens: Map<string, Budget>; // token budgets (OpenAI, Anthropic), spent by a request's cost
  window: boolean; // a quota with a window found to come back whole: spent at once, not paced
  windowId: string; // its policy
  burst: boolean; // a paced quota found to start with a bucket's burst: spent down to one first
  windowOff: boolean; // an answer showed it was not (or not ours alone): never again for this key
  windowSpent: boolean; // the window's quota was reported spent since the key's first answer
  sends: number[]; // the latest requests (at most MAX_SENDS): when each was answered, oldest first
  sendsOpen: number; // of those, how many are not answered yet (Infinity, at the end)
  sentAt: number[]; // when each of `sends` left
  fixed: boolean; // a window found to come back whole at a boundary every w (not a sliding log)
  fixedOff: boolean; // its boundaries were found not to repeat every w: never again for this key
  phaseLo: number; // one boundary of the fixed window lies after this time …
  phaseHi: number; // … and at or before this one (the others every w from it)
  phaseRun: boolean; // every answer since the last that found the window renewed was in its window
  phaseRunEnd: number; // the latest of those answers
  phaseLast: number; // the remaining count of the last answer
  serverLag: number; // at most this much ahead of the server's clock, the trip included (Date)
  renewAt: number; // when the last answer came that found the window whole but for itself
  phaseTrip: number; // the round trip of the last answer whose request's start is known
  epoch: number; // whether its windows turn on the server's whole seconds: 0 untried, 1 trying,
  // 2 they do, -1 they do not
  epochAt: number; // when the request that tries it may leave
  costs: number; // tokens declared by the requests in flight
  seenCosts: number; // of those, the tokens of requests the server has answered
}

/** A key nothing is known about. */
export function newPaceState(): PaceState {
  return {
    known: false,
    answered: false,
    intervalMs: 0,
    paceId: undefined,
    tat: -Infinity,
    budgets: new Map(),
    routes: new Map(),
    holdUntil: -Infinity,
    holds: new Map(),
    maxInflight: Infinity,
    concurrent: 0,
    concurrentOff: false,
    concurrentHits: 0,
    concurrentRises: 0,
    concurrentLast: Infinity,
    concurrentWhole: 0,
    concurrentOks: 0,
    starts: [],
    startedAt: [],
    probing: false,
    answers: 0,
    gatedSince: -Infinity,
    aimdRate: 0,
    aimdFast: false,
    aimdDecreasedAt: -Infinity,
    aimdCeiling: Infinity,
    aimdStreak: 0,
    oks: [],
    inflight: 0,
    seen: 0,
    bucket: undefined,
    bucketOff: false,
    emptyResetMs: 0,
    short: false,
    afterReset: 0,
    wholeAtReset: false,
    afterTimedReset: false,
    renewedAtReset: false,
    wholeLast: Infinity,
    wholeAtResetOff: false,
    afterEarly: false,
    runLog: [],
    runId: "",
    runStart: -Infinity,
    runUntil: -Infinity,
    runOpen: false,
    runSpent: false,
    runWhole: false,
    runLast: Infinity,
    runUntimed: false,
    tokens: new Map(),
    window: false,
    windowId: "",
    burst: false,
    windowOff: false,
    windowSpent: false,
    sends: [],
    sendsOpen: 0,
    sentAt: [],
    fixed: false,
    fixedOff: false,
    phaseLo: -Infinity,
    phaseHi: Infinity,
    phaseRun: false,
    phaseRunEnd: -Infinity,
    phaseLast: Infinity,
    serverLag: Infinity,
    renewAt: -Infinity,
    phaseTrip: 0,
    epoch: 0,
    epochAt: Infinity,
    costs: 0,
    seenCosts: 0,
  };
}

/**
 * Milliseconds until the next request may start: 0 now, `Infinity` while waiting for an answer.
 * Drops budgets whose window is over.
 */
export function paceDelay(
  state: PaceState,
  now: number,
  limits: PaceLimits,
  route?: string,
  cost = 0,
): number {
  if (!state.known) {
    // Slow start: one request alone, then one more in flight per answer, until the server's
    // headers say more (a burst of callers on a cold key cannot overrun a small burst). A
    // request that hangs holds the others back for fallbackWindowMs at most.
    if (!limits.probeFirst || state.inflight <= state.answers) return 0;
    if (state.gatedSince === -Infinity) state.gatedSince = now;
    return Math.max(0, state.gatedSince + limits.fallbackWindowMs - now);
  }
  let wait = state.holdUntil - now;
  for (const [id, until] of state.holds) {
    if (until <= now) state.holds.delete(id);
    else if (counts(state, id, route)) wait = Math.max(wait, until - now);
  }
  for (const [id, budget] of state.budgets) {
    if (state.window && budget.quota !== undefined && budget.windowMs !== undefined) {
      // Another route's window (a separate quota) does not hold this request.
      if (!counts(state, id, route)) continue;
      wait = Math.max(wait, windowWait(state, budget, now));
      continue;
    }
    if (budget.early !== undefined && now >= budget.early && budget.remaining < 1) {
      earlyEnd(state, budget, now);
    }
    if (now >= budget.until) {
      // The window is over. With a paced policy (q per w) its quota is back: spend it, spread by
      // the pace, rather than probing one request at a time (a round trip per window). Without a
      // window, q says nothing about bursts (a GCRA may announce q=20 and allow 5): probe.
      // A quota of 0 is never renewed (it would hold the key window after window, with no
      // request ever sent to learn otherwise): it is forgotten and probed like an unknown one.
      if (
        budget.quota === undefined || budget.quota < 1 || budget.windowMs === undefined ||
        state.intervalMs <= 0
      ) {
        // A spent quota without a window: the probe's answer tells whether it came back whole
        // (a window) or not (a bucket that refills continuously). Once it has come back whole,
        // it is renewed whole at its next resets instead, like a window's (a probe costs a
        // round trip per window).
        if (budget.remaining < 1 && budget.windowMs === undefined) {
          const timed = budget.untimed !== true;
          if (timed && state.wholeAtReset && budget.quota !== undefined && budget.quota >= 1) {
            renew(state, budget, budget.quota, now + limits.fallbackWindowMs);
            state.renewedAtReset = true;
            continue;
          }
          state.afterReset = budget.quota ?? 0;
          state.afterTimedReset = timed;
        }
        state.budgets.delete(id);
        state.probing = true;
      } else {
        // Bounded like every hold a server asks for: a year-long `w` renews at most maxHoldMs.
        renew(state, budget, budget.quota, now + Math.min(budget.windowMs, limits.maxHoldMs));
      }
    } else if (budget.remaining < 1 && counts(state, id, route)) {
      wait = Math.max(wait, Math.min(budget.until, budget.early ?? Infinity) - now);
    }
  }
  if (state.tokens.size > 0) wait = Math.max(wait, tokenWait(state, now, limits, cost));
  // No slack before the pace: a GCRA without burst rejects a request a millisecond early, and a
  // window's budget released at once (above) is spread only by the pace. But a key that started
  // with a bucket's burst spends what the server reports left beyond the requests in flight, all
  // but the last, before the pace: the last keeps the quota from being reported spent (which
  // would hold the key for its reset, a whole second rounded up).
  if (state.intervalMs > 0 && !burstLeft(state, route) && paced(state, route)) {
    wait = Math.max(wait, state.tat - now);
  }
  if (wait > 0) return wait;
  if (state.inflight >= state.maxInflight) return Infinity;
  if (state.concurrent > 0 && state.inflight >= state.concurrent) return Infinity;
  return state.probing && state.inflight > 0 ? Infinity : 0;
}

// A spent quota without a window that the key's own requests leave room in before its reset
// (see learnRun): probed now, as at its reset, or renewed (once it has come back whole at a reset)
// by as much room as they leave. A fixed window is all back at once, but a sliding log gets its
// requests back one at a time, and a bucket may not be full: the requests answered later wait
// (the answers to the renewed requests then say how much is left).
function earlyEnd(state: PaceState, budget: Budget, now: number): void {
  const quota = budget.quota ?? 0;
  const free = quota - loggedSince(state, now - runSpan(state)) - unanswered(state);
  budget.early = state.runSpent ? logFreeAt(state, quota, now, unanswered(state)) : undefined;
  if (free < 1 || budget.early === undefined) return;
  if (budget.untimed === true || !state.wholeAtReset || quota < 1) {
    budget.until = now;
    state.afterEarly = true;
  } else if (free + unanswered(state) >= quota) {
    budget.until = now; // whole again: renewed as at its reset
  } else {
    budget.remaining = free;
    budget.renewed = true;
    state.renewedAtReset = true;
  }
}

/** A budget whose quota is back by the clock: whole, less the requests not answered yet. */
function renew(state: PaceState, budget: Budget, quota: number, until: number): void {
  budget.remaining = quota - unanswered(state);
  budget.renewed = true;
  budget.until = until;
}

// The key's first answer finds its one paced quota far from whole, with some left: a bucket's
// burst (GCRA, token bucket), which the server allows at once. A rejection ends it for good.
function learnBurst(state: PaceState, policies: Policies, throttled: boolean): void {
  if (throttled) state.burst = false;
  if (throttled || state.answers !== 1 || policies.length !== 1) return;
  const { quota, remaining, windowMs } = policies[0];
  if (quota === undefined || remaining === undefined || windowMs === undefined) return;
  state.burst = remaining >= 2 && 2 * remaining < quota;
}

/** Whether every budget a request on `route` counts against has two or more requests left. */
function burstLeft(state: PaceState, route: string | undefined): boolean {
  if (!state.burst || state.budgets.size === 0) return false;
  for (const [id, budget] of state.budgets) {
    if ((budget.remaining < 2 || budget.renewed) && counts(state, id, route)) return false;
  }
  return true;
}

const MAX_ROUTES = 256;

// The routes a request counts under: its path, then its first segment (`/search/issues`,
// `/search`), so that a route never asked yet is judged by its neighbours.
function routeKeys(route: string): [string, string] {
  const path = route.length > 256 ? route.slice(0, 256) : route;
  const second = path.indexOf("/", 1);
  return [path, second > 0 ? path.slice(0, second) : path];
}

/** Whether the pace spreads a request on `route`: one counted against the policy it is for. */
function paced(state: PaceState, route: string | undefined): boolean {
  return state.paceId === undefined || counts(state, state.paceId, route);
}

/** Whether a request on `route` counts against budget `id`: unknown routes count everywhere. */
function counts(state: PaceState, id: string, route: string | undefined): boolean {
  if (route === undefined || state.routes.size === 0) return true;
  const [path, prefix] = routeKeys(route);
  const ids = state.routes.get(path) ?? state.routes.get(prefix);
  return ids === undefined || ids.includes(id);
}

// Learns which budgets a route's answers report (GitHub's `core` and `search` resources).
function learnRoute(state: PaceState, route: string | undefined, ids: string[]): void {
  if (route === undefined || ids.length === 0) return;
  for (const key of routeKeys(route)) {
    state.routes.delete(key);
    state.routes.set(key, ids);
  }
  for (const key of state.routes.keys()) {
    if (state.routes.size <= MAX_ROUTES) break;
    state.routes.delete(key);
  }
}

/** Requests in flight that the server has not answered yet. */
function unanswered(state: PaceState): number {
  return Math.max(0, state.inflight - state.seen);
}

/** Counts a request that ends (released), answered or not, with the tokens it declared. */
export function paceEnd(state: PaceState, clock: { now(): number }, cost = 0): void {
  state.inflight--;
  // A request that ended unanswered (a network error) leaves its start behind: the oldest goes.
  if (state.starts.length > state.inflight) {
    state.starts.shift();
    state.startedAt.shift();
  }
  // Ended unanswered: it counted (if it reached the server) from some time until now.
  if (state.sendsOpen > state.inflight) logAnswer(state, clock.now());
  // Most requests are observed before their release; one that was not (a network error)
  // leaves the count one too low, which only makes the budget more careful.
  state.seen = Math.min(Math.max(0, state.seen - 1), state.inflight);
  state.costs = state.inflight === 0 ? 0 : Math.max(0, state.costs - cost);
  state.seenCosts = Math.min(Math.max(0, state.seenCosts - cost), state.costs);
}

/**
 * Counts a request that starts now: in flight, against every budget, on the pace, and its
 * declared tokens against the token budgets.
 */
export function paceStart(state: PaceState, now: number, route?: string, cost = 0): void {
  state.inflight++;
  if (state.starts.length < MAX_STARTS) {
    state.starts.push(unanswered(state));
    state.startedAt.push(now);
  }
  // Requests are logged while they may count against a window: from a cold start until the
  // server has answered without saying anything (a key without headers logs none).
  if ((state.known || !state.answered) && !state.windowOff) {
    state.sends.push(Infinity);
    state.sentAt.push(now);
    state.sendsOpen++;
    if (state.sends.length > MAX_SENDS) {
      state.sentAt.shift();
      if (state.sends.shift() === Infinity) state.sendsOpen--;
    }
  }
  // The request that tries whether a fixed window turns on the server's seconds.
  if (state.epoch === 0 && now >= state.epochAt) state.epoch = 1;
  for (const [id, budget] of state.budgets) if (counts(state, id, route)) budget.remaining--;
  // A request of a burst (ahead of the pace) does not move it.
  if (state.intervalMs > 0 && state.tat <= now && paced(state, route)) {
    state.tat = now + state.intervalMs;
  }
  if (cost > 0) {
    state.costs += cost;
    for (const [id, budget] of state.tokens) if (charged(id)) budget.remaining -= cost;
  }
}

// --- token budgets: a request's declared `cost` -------------------------------------------------

const TOKEN_UNITS = new Set(["tokens", "input-tokens", "output-tokens"]);

// A declared cost is what a request will send: it is spent against the total and input token
// budgets. Output tokens are known only from the server's answer: a spent output budget holds
// a costed request, but the cost is not charged to it.
function charged(id: string): boolean {
  return !id.startsWith("output-tokens;");
}

/** Declared tokens of the requests in flight the server has not answered yet. */
function unansweredCosts(state: PaceState): number {
  return Math.max(0, state.costs - state.seenCosts);
}

// How long a request declaring `cost` tokens waits for the token budgets: until the reset of a
// budget whose remaining tokens do not cover it (a request larger than the whole quota waits for
// a full budget). A request without a cost is not held by token budgets.
function tokenWait(state: PaceState, now: number, limits: PaceLimits, cost: number): number {
  let wait = 0;
  for (const [id, budget] of state.tokens) {
    if (now >= budget.until) {
      // The reset has passed: the budget is full again (OpenAI's and Anthropic's resets are
      // "until fully replenished"), less what requests in flight declared. Without a quota
      // nothing is known any more.
      if (budget.quota === undefined) {
        state.tokens.delete(id);
        continue;
      }
      budget.remaining = budget.quota - (charged(id) ? unansweredCosts(state) : 0);
      budget.until = now + limits.fallbackWindowMs;
    }
    if (cost <= 0) continue;
    const need = charged(id) ? Math.min(cost, budget.quota ?? Infinity) : 1;
    if (budget.remaining < need) wait = Math.max(wait, budget.until - now);
  }
  return wait;
}

// The token budgets of one answer: what the server says is left, less the tokens of requests
// in flight that it has not answered yet (the answered one's usage is in the server's figure:
// its declared cost is refunded, what it used is charged).
function learnTokens(
  state: PaceState,
  policies: Policies,
  now: number,
  limits: PaceLimits,
  cost: number,
): void {
  const others = Math.max(0, unansweredCosts(state) - cost);
  for (const p of policies) {
    if (!TOKEN_UNITS.has(p.unit) || p.remaining === undefined) continue;
    const id = `${p.unit};${policyId(p)}`;
    // A reset of 0 or in the past still reports what is left now: count it for a while.
    let windowMs = p.resetMs;
    if (windowMs === undefined || windowMs <= 0) windowMs = limits.fallbackWindowMs;
    const budget: Budget = {
      remaining: p.remaining - (charged(id) ? others : 0),
      until: now + Math.min(windowMs, limits.maxHoldMs),
    };
    if (p.quota !== undefined) budget.quota = p.quota;
    state.tokens.delete(id);
    state.tokens.set(id, budget);
  }
  for (const id of state.tokens.keys()) {
    if (state.tokens.size <= MAX_SERVER_POLICIES) break;
    state.tokens.delete(id);
  }
}

/**
 * Learns from one answer: its status and its parsed rate-limit headers. Returns whether it was a
 * rate-limit answer (a 429, or a 403/503 that says so).
 */
export function paceLearn(
  state: PaceState,
  status: number,
  info: ServerRateLimit | undefined,
  now: number,
  limits: PaceLimits,
  route?: string,
  cost = 0,
): boolean {
  state.answered = true;
  state.answers++;
  state.gatedSince = -Infinity;
  const throttled = isRateLimitAnswer(status, info);
  const policies = info?.policies.filter((p) => p.unit === "requests") ?? [];
  const informed = policies.some((p) => p.remaining !== undefined);
  // Answers come back about in the order their requests left: the oldest start is this one's.
  const started = state.starts.shift();
  const startedAt = state.startedAt.shift();
  learnConcurrent(state, policies, status, throttled, started);
  if (state.sendsOpen > 0) logAnswer(state, now);
  // A cold key's requests start without reading the clock.
  const sentAt = state.known ? startedAt : now;
  learnWindow(state, policies, throttled, started, sentAt, now);
  learnBurst(state, policies, throttled);
  if (info !== undefined) {
    state.known = true;
    learnConcurrency(state, info.policies);
    learnPace(state, policies, limits);
    // The quota of a spent budget without a window whose reset has just passed (0: none).
    const afterReset = state.afterReset;
    learnWholeAtReset(state, policies, throttled, state.afterTimedReset ? afterReset : 0);
    state.afterReset = 0;
    state.afterTimedReset = false;
    // A probe sent before that reset, when the key's own requests left room (earlyEnd), finds a
    // sliding log spent over two round trips refilled in part: at a reset that is a bucket's sign,
    // not there.
    const early = state.afterEarly;
    state.afterEarly = false;
    learnBucket(state, policies, throttled, now, early ? 0 : afterReset);
    const held = throttled || info.retryAfterMs !== undefined;
    learnRun(state, policies, held, now, limits, started, sentAt);
    // Retry-After takes precedence over `t` on any status (draft-11 §7).
    learnRoute(state, route, learnBudgets(state, policies, info.retryAfterMs, now, limits));
    learnTokens(state, info.policies, now, limits, cost);
  }
  state.seen = Math.min(state.seen + 1, state.inflight);
  state.seenCosts = Math.min(state.seenCosts + cost, state.costs);
  if (throttled) {
    // A rejection that names its spent quota holds the requests that count against it: another
    // quota's routes go on (a success of another request, answered before it, lifts neither).
    // One that names none (a secondary limit) holds the key.
    const spent = policies.filter((p) => p.remaining !== undefined && p.remaining < 1);
    let hold = info?.retryAfterMs ?? (informed ? 0 : limits.fallbackWindowMs);
    if (spent.length > 0 && hold > 0) {
      const until = now + Math.min(hold, limits.maxHoldMs);
      for (const p of spent) {
        const id = policyId(p);
        state.holds.set(id, Math.max(state.holds.get(id) ?? -Infinity, until));
      }
      for (const id of state.holds.keys()) {
        if (state.holds.size <= MAX_SERVER_POLICIES) break;
        state.holds.delete(id);
      }
      hold = 0;
    }
    // A 503 is too many at once (its cap is lowered above), not too many per second.
    if (!informed && policies.length === 0 && status !== 503) {
      hold = aimdDecrease(state, now, info?.retryAfterMs, startedAt, limits);
    }
    state.known = true;
    state.holdUntil = Math.max(state.holdUntil, now + Math.min(hold, limits.maxHoldMs));
    state.probing = true;
  } else {
    state.probing = false;
    if (status < 400) {
      state.oks.push(now);
      if (state.oks.length > MAX_OKS) state.oks.shift();
      state.aimdStreak = 0;
      if (state.aimdRate > 0 && policies.length === 0) aimdIncrease(state);
    }
  }
  return throttled;
}

// A server that rejects without saying its limit (bare 429, or Retry-After alone): pace at a
// rate found by AIMD, so that a 200 without headers does not let every caller burst again.
// The first rejection (of a cold start: a burst limit or a window, not a rate) starts the pace at
// AIMD_FIRST × what the server accepted over the last fallback window, and the pace then climbs
// fast (AIMD_FAST an answer) until it draws a rejection. That one marks the limit: the pace drops
// to AIMD_DECREASE × the lower of the pace and what was accepted over the last fallback window,
// and climbs back only up to AIMD_CEILING × the pace that drew it (the ceiling itself rising
// AIMD_CEILING_RISE an answer, for a server that raises its limit), instead of a sawtooth of
// rejections. Rejections of requests that left before the last decrease belong to it.
// Returns the hold: a Retry-After, whole (a MUST); for a bare rejection, a quarter of the fallback
// window after the first one (a bucket has its next request back well within it; a window still
// spent rejects the probe, which then holds as aimdHold says), two steps of the new pace after a
// later one, nothing more for one that belongs to the last decrease.
function aimdDecrease(
  state: PaceState,
  now: number,
  retryAfterMs: number | undefined,
  startedAt: number | undefined,
  limits: PaceLimits,
): number {
  const first = state.aimdRate === 0;
  if (!first && startedAt !== undefined && startedAt <= state.aimdDecreasedAt) {
    return retryAfterMs ?? 0;
  }
  if (now < state.holdUntil) return retryAfterMs ?? 0;
  const since = now - limits.fallbackWindowMs;
  const recent = state.oks.filter((t) => t > since);
  const accepted = (recent.length * 1000) / limits.fallbackWindowMs;
  // Nothing accepted lately to start from: hold, then probe one request at a time.
  if (first && accepted === 0) return retryAfterMs ?? limits.fallbackWindowMs;
  state.aimdDecreasedAt = now;
  const streak = state.aimdStreak++;
  if (streak > 0 && !first) {
    // Rejected again before any success (a window still spent): the pace was lowered once; the
    // hold doubles.
    return retryAfterMs ?? aimdHold(state, now, recent, streak, limits);
  }
  if (first) {
    state.aimdFast = true;
    state.aimdCeiling = Infinity;
    state.aimdRate = accepted * AIMD_FIRST;
  } else {
    state.aimdFast = false;
    const base = Math.min(state.aimdRate, accepted);
    state.aimdCeiling = base * AIMD_CEILING;
    state.aimdRate = base * AIMD_DECREASE;
  }
  state.aimdRate = Math.max(state.aimdRate, 1000 / limits.fallbackWindowMs);
  state.intervalMs = 1000 / state.aimdRate;
  state.paceId = undefined;
  if (retryAfterMs !== undefined) return retryAfterMs;
  return first
    ? limits.fallbackWindowMs * AIMD_FIRST_HOLD
    : aimdHold(state, now, recent, streak, limits);
}

// The hold after a bare rejection while paced: two steps of the pace, doubled for each rejection
// in a row; when the last fallback window holds as many successes as the new pace allows in it,
// at least until the oldest of them leaves it (a sliding log that was spent lets one more
// through then); at most the fallback window.
function aimdHold(
  state: PaceState,
  now: number,
  recent: number[],
  streak: number,
  limits: PaceLimits,
): number {
  const steps = 2 * state.intervalMs * 2 ** Math.min(streak, 10);
  const full = recent.length >= (state.aimdRate * limits.fallbackWindowMs) / 1000;
  const free = full ? recent[0] + limits.fallbackWindowMs - now : 0;
  return Math.min(limits.fallbackWindowMs, Math.max(steps, free));
}

const AIMD_FIRST = 0.95;
const AIMD_FIRST_HOLD = 0.25; // of the fallback window: the first hold after a bare rejection
const AIMD_DECREASE = 0.95;
const AIMD_FAST = 4; // a second
const AIMD_CEILING = 0.97;
const AIMD_CEILING_RISE = 1.0002;
const MAX_OKS = 128;

// Until the second decrease the pace grows AIMD_FAST an answer (the first guess was made from a
// cold start, and may be far below the server's rate); after it, about one request per second
// more each second, up to the ceiling.
function aimdIncrease(state: PaceState): void {
  if (state.aimdFast) state.aimdRate *= AIMD_FAST ** (1 / state.aimdRate);
  else {
    state.aimdCeiling *= AIMD_CEILING_RISE;
    state.aimdRate = Math.max(
      state.aimdRate,
      Math.min(state.aimdCeiling, state.aimdRate + 1 / state.aimdRate),
    );
  }
  state.intervalMs = 1000 / state.aimdRate;
  state.paceId = undefined;
}

type Policies = ServerRateLimit["policies"];

/** A policy's budget id: its draft-11 name and partition key (`pk`). */
function policyId(p: { name: string; partitionKey?: string }): string {
  return `${p.name};${p.partitionKey ?? ""}`;
}

// --- quotas without a window that refill continuously (GCRA, token buckets) ---------------------
//
// `X-RateLimit-*` and the older drafts give a limit and a reset but no window. After a burst, a
// bucket answers "0 left, reset in 1 s" (the time to its next request, rounded up to a second),
// as a fixed window of one second does, and holding the whole reset sends one burst per second.
// The two differ in what the first answer after the reset says: a window is whole again
// (remaining = limit - 1), a bucket has refilled only its burst. From then on the key is paced,
// starting at the limit per announced reset (the window that the reset stands for), and the pace
// follows what the server reports: raised slowly while the bucket stays full, lowered when it
// is empty (the next request then waits one refill). A rejection while paced so proves the guess
// wrong: the key goes back to holding resets, for good.

// The longest reset that may stand for a refill rounded up to whole seconds (an epoch reset read
// against a Date header may come out a second longer). Longer resets are precise enough to hold.
const BUCKET_MAX_RESET_MS = 2000;
const BUCKET_RAISE = 1.05; // per answer while the bucket stays full
const BUCKET_LOWER = 0.9; // per answer that finds it empty
const BUCKET_EASE = 0.98; // per answer that finds it below half
const BUCKET_BACK_OFF = 0.5; // per rejection
const BUCKET_MAX_REJECTIONS = 2;

/** The one request quota without a window that says what is left, if there is exactly one. */
function bucketPolicy(policies: Policies): Policies[number] | undefined {
  const open = policies.filter((p) =>
    p.remaining !== undefined && p.quota !== undefined && p.windowMs === undefined
  );
  return open.length === 1 && policies.every((p) => p.windowMs === undefined) ? open[0] : undefined;
}

// A quota without a window, reported spent with a reset, that the probe after the reset found
// whole again (a fixed window or a sliding log spent in one burst, or a bucket that refills whole
// within its reset): its next resets renew it whole without a probe. Not a quota whose remaining
// count goes up by two or more between answers with no reset in between (requests at once, a
// bucket's refill: renewed whole, every renewal would find it spent and hold a reset), and not
// after a rejection: for good.
function learnWholeAtReset(
  state: PaceState,
  policies: Policies,
  throttled: boolean,
  afterReset: number,
): void {
  const renewed = state.renewedAtReset;
  state.renewedAtReset = false;
  if (throttled) {
    if (state.wholeAtReset) state.wholeAtResetOff = true;
    state.wholeAtReset = false;
    return;
  }
  const p = bucketPolicy(policies);
  if (p === undefined) return;
  const last = state.wholeLast;
  state.wholeLast = p.remaining!;
  if (afterReset <= 0 && !renewed && p.remaining! >= last + 2) {
    state.wholeAtReset = false;
    state.wholeAtResetOff = true;
  }
  if (afterReset <= 1 || state.wholeAtResetOff || state.bucket !== undefined) return;
  if (p.remaining! + 1 >= afterReset) state.wholeAtReset = true;
}

// --- a spent quota without a window, counted by the key's own requests ------------------------
//
// A spent quota without a window is held until the reset of the answer that reported it spent:
// for a window spent over two round trips, its last answer. But every answer of a fixed window
// bounds the same end (its time plus its reset), and the first one said as much two round trips
// earlier. While the key is alone on the quota, its own requests say when it is free:
// - a window starts with an answer that finds the quota whole but for the requests in flight;
// - its answers belong to it while the remaining count goes only down and each end agrees with
//   the earliest one within the resets' resolution (a whole second for whole seconds): a count
//   that goes back up is a new window (or requests at once), an end that moves later is no
//   window's end (a bucket's time until it is full);
// - once one of them reports the quota spent, the span from the first answer to the earliest end
//   is how long each of the key's requests may count from its answer: a fixed window ends within
//   it, a sliding log's reset is that of its oldest request (the window's first), and a bucket
//   spent from full within one whole-second reset refills at least that fast.
// The spent quota is then free again as the key's requests leave that span (earlyEnd), which
// lets a fixed window's quota go about a round trip after its first answer's reset, and a
// sliding log's one request at a time as it frees them. An answer reporting less left than the
// key's own requests explain (another client), a rejection, a Retry-After, another quota's
// answer, an end before the request that reported it was sent (no one window), a bucket or
// requests at once found: the count is dropped until a window starts whole again. Resets of 0 or
// past count apart from timed ones, `fallbackWindowMs` standing in for them (as in learnBudgets).

function learnRun(
  state: PaceState,
  policies: Policies,
  held: boolean,
  now: number,
  limits: PaceLimits,
  started: number | undefined,
  startedAt: number | undefined,
): void {
  const p = bucketPolicy(policies);
  if (
    held || p === undefined || p.quota! < 2 || p.quota! > MAX_SENDS ||
    state.bucket !== undefined || state.concurrent > 0 || startedAt === undefined ||
    started === undefined
  ) {
    endRun(state);
    return;
  }
  const remaining = p.remaining!, quota = p.quota!;
  // Another quota's answer (a route of the key counted apart) is no answer of this window.
  const id = `${policyId(p)};${quota}`;
  if (id !== state.runId) endRun(state);
  const untimed = p.resetMs === undefined || p.resetMs <= 0;
  const resetMs = Math.min(untimed ? limits.fallbackWindowMs : p.resetMs!, limits.maxHoldMs);
  const end = now + resetMs;
  const whole = resetMs % 1000 === 0;
  // Whole seconds are rounded: a later answer of the same window may give an end up to a second
  // later (strictly less: the first answer came less than its reset earlier).
  const slack = state.runWhole && whole ? 1000 : 0;
  const same = state.runOpen && untimed === state.runUntimed && remaining <= state.runLast &&
    now < state.runUntil && (end < state.runUntil + slack || end <= state.runUntil);
  if (same && Math.min(state.runUntil, end) <= startedAt) {
    // The window this answer agrees with ended before its request left: no one window.
    endRun(state);
    return;
  }
  if (same) {
    state.runUntil = Math.min(state.runUntil, end);
    state.runWhole &&= whole;
    if (remaining < 1) state.runSpent = true;
  } else if (remaining + started >= quota) {
    state.runLog = [];
    state.runId = id;
    state.runStart = now;
    state.runUntil = end;
    state.runUntimed = untimed;
    state.runWhole = whole;
    state.runSpent = remaining < 1;
  } else if (state.runLog.length === 0) {
    return;
  }
  state.runOpen = same || state.runLog.length === 0;
  // Alone on it: the server counted no more than the key's requests that may have counted when
  // this one left.
  const own = loggedSince(state, startedAt - runSpan(state)) + unanswered(state);
  if (remaining < quota - own) {
    endRun(state);
    return;
  }
  state.runLog.push(now);
  if (state.runLog.length > MAX_SENDS) state.runLog.shift();
  state.runLast = remaining;
}

function endRun(state: PaceState): void {
  state.runLog = [];
  state.runOpen = false;
  state.runSpent = false;
  state.runLast = Infinity;
}

/** How long each of the key's requests may count against a quota without a window. */
function runSpan(state: PaceState): number {
  return state.runUntil - state.runStart;
}

/** How many of the key's logged answers came after `since`. */
function loggedSince(state: PaceState, since: number): number {
  return countAfter(state.runLog, since);
}

// When the key's own requests leave room for one more request of `quota`, with `pending` more
// in flight (Infinity: not before some of those are answered).
function logFreeAt(state: PaceState, quota: number, now: number, pending: number): number {
  const span = runSpan(state);
  const counted = loggedSince(state, now - span);
  const need = counted + pending - (quota - 1);
  if (need <= 0) return now;
  if (need > counted) return Infinity;
  return state.runLog[state.runLog.length - counted + need - 1] + span;
}

function learnBucket(
  state: PaceState,
  policies: Policies,
  throttled: boolean,
  now: number,
  afterReset: number,
): void {
  const bucket0 = state.bucket;
  if (throttled) {
    if (bucket0 === undefined) return;
    // A request that met an empty bucket (an answer delayed past the next request's start): slow
    // down. A second one says the guess is wrong.
    if (++bucket0.rejections >= BUCKET_MAX_REJECTIONS) {
      state.bucket = undefined;
      state.bucketOff = true;
      state.intervalMs = 0;
      return;
    }
    bucket0.rate *= BUCKET_BACK_OFF;
    state.intervalMs = 1000 / bucket0.rate;
    state.paceId = undefined;
    state.tat = Math.max(state.tat, now + state.intervalMs);
    return;
  }
  const p = bucketPolicy(policies);
  if (p === undefined || state.bucketOff || state.concurrent > 0) return;
  const remaining = p.remaining!;
  let bucket = state.bucket;
  if (bucket === undefined) {
    // The first answer of a key: a window would be (nearly) whole for the first request.
    // (A quota already spent then says nothing: others may have spent a window.)
    if (state.answers === 1) state.short = remaining >= 1 && remaining + 1 < p.quota!;
    const shortReset = p.resetMs !== undefined && p.resetMs <= BUCKET_MAX_RESET_MS;
    if (remaining < 1 && shortReset) state.emptyResetMs = Math.max(1, p.resetMs!);
    else if (remaining < 1) state.emptyResetMs = 0;
    // A spent quota with a reset of about a second that did not start whole, or the first
    // answer after such a reset that finds it refilled only in part: it refills continuously.
    const refilled = afterReset > 1 && remaining >= 1 && remaining + 1 < afterReset;
    const spentShort = remaining < 1 && state.short;
    if (state.emptyResetMs === 0 || !(refilled || spentShort)) return;
    // The limit per announced reset, but no more than a few times what the server accepted over
    // the last second: a spent quota shared with other clients, a second before its window
    // ends, looks the same, and must not draw a flood of rejections.
    const accepted = state.oks.filter((t) => t > now - 1000).length + 1;
    bucket = state.bucket = {
      rate: Math.min((p.quota! * 1000) / Math.max(1000, state.emptyResetMs), 4 * accepted),
      max: remaining,
      rejections: 0,
    };
  } else if (remaining + 1 >= p.quota! && bucket.max + 1 < p.quota!) {
    // Whole again, after never being so: a window that was reset, not a bucket.
    state.bucket = undefined;
    state.bucketOff = true;
    state.intervalMs = 0;
    return;
  }
  // Kept between full and half full: raised while full, lowered while draining below half.
  if (remaining >= bucket.max) {
    bucket.max = remaining;
    bucket.rate *= BUCKET_RAISE;
  } else if (remaining < 1) {
    bucket.rate *= BUCKET_LOWER;
  } else if (remaining < bucket.max / 2) {
    bucket.rate *= BUCKET_EASE;
  }
  state.intervalMs = 1000 / bucket.rate;
  state.paceId = undefined;
  // Empty: the next request one refill later.
  if (remaining < 1) state.tat = Math.max(state.tat, now + state.intervalMs);
}

// Pace at the strictest sustained rate q/w among the short-window policies, for the requests
// that count against that policy: a separate quota's pace (GitHub's `search`, 30 a minute) does
// not spread the requests of the others, which its budget does not hold either.
function learnPace(state: PaceState, policies: Policies, limits: PaceLimits): void {
  if (state.concurrent > 0 || state.window) return;
  if (!policies.some((p) => p.quota !== undefined && p.windowMs !== undefined)) return;
  let interval = 0;
  let id: string | undefined;
  for (const p of policies) {
    const { quota, windowMs } = p;
    if (quota && windowMs && windowMs <= limits.maxPacedWindowMs && windowMs / quota > interval) {
      interval = windowMs / quota;
      id = policyId(p);
    }
  }
  // An answer that does not report the policy paced so far (another route's) keeps its pace,
  // unless its own is stricter: the key keeps one pace, for the strictest policy it has seen.
  const current = state.paceId;
  const reported = current !== undefined && policies.some((p) => policyId(p) === current);
  if (current !== undefined && !reported && interval <= state.intervalMs) return;
  state.intervalMs = interval;
  state.paceId = id;
}

// --- windows that come back whole (fixed windows, sliding logs) --------------------------------
//
// A quota of `q` per window `w` is paced at `q / w` by default, which suits a bucket: it refills
// one request at a time, and after its burst it answers "0 left, more in 1 s" (a whole second
// rounded up from 50 ms). A fixed window or a sliding log is different: its whole quota may be
// spent at once, and it comes back whole a window later; paced, a batch takes a window longer
// than it must and never spends a window's start. Such a quota is told by its answers: whole but
// for the requests in flight on the key's first answer, or on the first answer after it was
// reported spent (a bucket comes back only to its burst). It is then spent at once, and once it
// is spent, the pacer counts its own requests: the server counted each one when it arrived, at
// the latest when it answered, so a request answered more than `w` ago (plus a small margin) no
// longer counts against a fixed window or a sliding log, and the announced reset, rounded to
// whole seconds, is not waited out when the window is known to be free earlier. This holds only
// while the client is alone on the quota: an answer reporting less left than the client's own
// requests explain, or a rejection, returns the key to pacing at `q / w` for good.

const MAX_SENDS = 256; // the largest quota counted by the client's own requests
const WINDOW_MARGIN = 0.005; // of the window, for clocks that tick in milliseconds …
const WINDOW_MIN_MARGIN_MS = 5; // … at least

function windowSpan(windowMs: number): number {
  return windowMs + Math.max(WINDOW_MIN_MARGIN_MS, windowMs * WINDOW_MARGIN);
}

/** Logs the answer of the oldest request in flight (answers come back about in order). */
function logAnswer(state: PaceState, now: number): void {
  state.sends[state.sends.length - state.sendsOpen] = now;
  state.sendsOpen--;
}

/** How many of the key's logged requests may still count at `since`: answered later, or not yet. */
function countedSince(state: PaceState, since: number): number {
  return countAfter(state.sends, since);
}

/** How many entries of a log in ascending order (Infinity last) come after `since`. */
function countAfter(log: readonly number[], since: number): number {
  let i = log.length;
  while (i > 0 && log[i - 1] > since) i--;
  return log.length - i;
}

// How long the next request waits for a window budget: none while it has quota left, by the
// server's count or by the key's own requests (both are lower bounds while the key is alone),
// else until the server's reset or until the oldest request counted leaves the window.
function windowWait(state: PaceState, budget: Budget, now: number): number {
  const quota = budget.quota!, windowMs = budget.windowMs!;
  const span = windowSpan(windowMs);
  // A fixed window renewed last at a boundary in (lo, hi]: the k-th after it began by hi + k·w,
  // after lo + k·w; requests answered before the latter, or answered in the window renewed last,
  // are not counted in it.
  let since = now - span, next = Infinity;
  if (state.fixed) {
    const k = Math.floor((now - state.phaseHi - PHASE_MARGIN_MS) / windowMs + 1e-9);
    since = Math.max(since, state.phaseLo + k * windowMs);
    if (k >= 1 && state.phaseRun) since = Math.max(since, state.phaseRunEnd);
    next = state.phaseHi + (k + 1) * windowMs + PHASE_MARGIN_MS;
  }
  const free = quota - countedSince(state, since);
  if (now >= budget.until) {
    // The server's reset has passed: a fixed window is whole again, a sliding log has at least
    // its oldest request back. One request finds out how much, unless the key's own count says.
    budget.remaining = Math.max(free, 1 - unanswered(state));
    budget.until = now + windowMs;
  } else if (free > budget.remaining) {
    budget.remaining = free;
  }
  if (budget.remaining >= 1) return budget.remaining < 2 ? proofWait(state, now) : 0;
  if (state.epoch === 1) {
    // The answer to the request trying the server's seconds decides; one that ended unanswered (a
    // network error) decided nothing, and is not tried again.
    if (state.inflight > 0) return Infinity;
    state.epoch = -1;
  }
  const oldest = state.sends[state.sends.length - quota];
  const freeAt = oldest === undefined ? now : oldest + span;
  const due = Math.min(budget.until, freeAt, next);
  const at = epochTry(state, windowMs, now, due);
  if (at <= now) return state.inflight > 0 ? Infinity : 0;
  return Math.max(0, Math.min(due, at) - now);
}

// --- fixed windows that turn on the server's whole seconds ------------------------------------
//
// Many fixed windows are counted per `floor(time / w)` of the server's clock (a counter that
// expires per window), so they turn on its whole seconds, which its `Date` header tells to within
// a round trip. A fixed window that a client found turning somewhere else in the second (it
// started there) can then start each burst there. It is tried once per key, when it would move
// the bursts earlier by more than EPOCH_MIN_GAIN_MS: the first request of the next window goes
// alone just after the server's next boundary. Found renewed, it bounds where the windows turn
// (learnPhase); rejected, or not renewed, the key keeps the windows it found, for good, at the
// cost of that one answer.

const EPOCH_MIN_GAIN_MS = 50;

// A fixed window is told from a sliding log by a request of the window before that was sent less
// than `w` before the answer renewing the next one (learnPhase). The next window's first request
// goes when the first answer of this one is `w` old, and is answered a round trip later: so,
// until a window is found fixed, the last request of each window leaves no earlier than a round
// trip and PROOF_MARGIN_MS after that first answer (a few ms after the rest of a window's second
// round; a sliding log loses nothing by it).
const PROOF_MARGIN_MS = 10;

function proofWait(state: PaceState, now: number): number {
  if (state.fixed || state.fixedOff || state.renewAt === -Infinity) return 0;
  return Math.max(0, state.renewAt + state.phaseTrip + PROOF_MARGIN_MS - now);
}

/** When the request that tries whether the window turns on the server's seconds may leave. */
function epochTry(state: PaceState, windowMs: number, now: number, due: number): number {
  if (!state.fixed || state.epoch !== 0 || windowMs % 1000 !== 0) return Infinity;
  const lag = state.serverLag;
  if (!Number.isFinite(lag)) return Infinity;
  if (state.epochAt !== Infinity && state.epochAt < due) return state.epochAt;
  // The server's next boundary, on this client's clock: a request sent then arrives after it.
  const at = Math.ceil((now - lag) / windowMs) * windowMs + lag + PHASE_MARGIN_MS;
  if (at + EPOCH_MIN_GAIN_MS >= due) return Infinity;
  state.epochAt = at;
  return at;
}

function learnWindow(
  state: PaceState,
  policies: Policies,
  throttled: boolean,
  started: number | undefined,
  startedAt: number | undefined,
  now: number,
): void {
  if (state.windowOff) return;
  const p = policies.length === 1 ? policies[0] : undefined;
  const { quota, remaining, windowMs } = p ?? {};
  if (state.epoch === 1) {
    // The answer to the request that tried the server's seconds: its rejection is the try's, not
    // the window's (the windows found stand).
    const renewed = !throttled && remaining !== undefined && quota !== undefined &&
      remaining + 1 >= quota;
    state.epoch = renewed ? 2 : -1;
    if (throttled) return;
  }
  if (
    throttled || state.concurrent > 0 || state.bucket !== undefined || quota === undefined ||
    remaining === undefined || windowMs === undefined || quota < 2 || quota > MAX_SENDS
  ) {
    // Not a window counted by the client's own requests (any more): paced at q / w again
    // (learnPace runs after this, on the same answer). A key whose answers describe some other
    // quota (no window, several policies, a larger one) stops logging its requests.
    if (state.window || (policies.length > 0 && !throttled)) leaveWindow(state);
    return;
  }
  if (started === undefined || startedAt === undefined) return;
  const id = policyId(p!);
  if (!state.window) {
    if (remaining < 1) state.windowSpent = true;
    // Whole but for the requests in flight (at most half of it: with many in flight, a bucket's
    // burst plus the requests counted before this one may add up to the quota too).
    const whole = remaining + started >= quota && 2 * remaining >= quota;
    if (whole && (state.answers === 1 || state.windowSpent)) {
      state.window = true;
      state.windowId = id;
      state.renewAt = now;
      state.intervalMs = 0;
      state.tat = -Infinity;
    }
    return;
  }
  // Another policy's answer (a separate quota on another route): the key's own requests are
  // logged together, so they no longer count one window's (nor tell where it turns: a request of
  // the other route is none this window counted). Each quota is paced at its q / w instead,
  // its budget holding only its own routes.
  if (id !== state.windowId) {
    leaveWindow(state);
    return;
  }
  // Alone on the quota: the server counted no more than the client's own requests that may have
  // been in the window when this one arrived (it left at `startedAt`).
  if (remaining < quota - countedSince(state, startedAt - windowSpan(windowMs))) {
    leaveWindow(state);
    return;
  }
  learnPhase(state, quota, remaining, windowMs, started, startedAt, now);
}

/** The key is not (or no longer) a window counted by its own requests, for good. */
function leaveWindow(state: PaceState): void {
  state.window = false;
  state.windowOff = true;
  state.sends = [];
  state.sentAt = [];
  state.sendsOpen = 0;
  state.fixed = false;
}

// --- where a fixed window turns -----------------------------------------------------------------
//
// Counted by the client's own requests, a window's next burst waits until the first answer of the
// last one is `w` old: a round trip later every window, a drift of a few percent. A fixed window
// turns at a boundary every `w`, and its answers say where: a request sent with nothing else in
// flight that finds the quota whole but for itself arrived after the boundary that renewed it,
// and after every request answered before it left (none of those was counted with it), so that
// boundary lies between the latest of their sends and its own answer. When that span ends less
// than `w` after such a send, the quota came back before all the requests that used it were a
// window old: a fixed window, not a sliding log (a sliding log would still count them). From then
// on the key knows an interval that holds the boundary of the window renewed last, and the others
// every `w` from it, and each burst goes at its upper end plus k·w, with no drift. The answers
// counted in that window since (its remaining count only going down) raise the lower end (the
// next boundary comes after each of them left) and, once a later window has begun, no longer
// count against it. Boundaries that do not fit (a window that does not repeat every `w`) end this
// for good.
//
// Where in its window the first burst landed stays unknown: a quota announced in whole seconds
// never says, and finding out would take a request held back from a window and sent early in the
// next, which leaves that window a request short whenever it finds the next one begun.

const PHASE_MARGIN_MS = 2; // bursts go this long after the upper end of the interval

/**
 * Learns from an answer where the fixed window turns: `started` requests were in flight when it
 * left at `sentAt` (itself included), and it found `remaining` left.
 */
function learnPhase(
  state: PaceState,
  quota: number,
  remaining: number,
  windowMs: number,
  started: number,
  sentAt: number,
  now: number,
): void {
  if (state.fixedOff) return;
  if (sentAt < now) state.phaseTrip = now - sentAt;
  if (started === 1 && remaining + 1 >= quota) {
    state.renewAt = now;
    // Renewed. The requests answered before this one left (answers are logged in order, this
    // one last) were counted in an earlier window: its boundary lies after the latest of their
    // sends, and at or before this answer.
    const { sends } = state;
    let i = sends.length - state.sendsOpen - 2;
    while (i >= 0 && sends[i] >= sentAt) i--;
    let priorSent = -Infinity;
    for (; i >= 0 && sends[i] > sentAt - 2 * windowMs; i--) {
      priorSent = Math.max(priorSent, state.sentAt[i]);
    }
    if (!state.fixed) {
      if (priorSent <= now - windowMs) return;
      state.fixed = true;
      state.phaseLo = priorSent;
      state.phaseHi = now;
    } else {
      // The interval known so far, moved to this window's boundary.
      const shift = Math.round((now - state.phaseHi) / windowMs) * windowMs;
      state.phaseLo = Math.max(state.phaseLo + shift, priorSent);
      state.phaseHi = Math.min(state.phaseHi + shift, now);
    }
    state.phaseRun = true;
    state.phaseRunEnd = now;
  } else if (state.fixed && state.phaseRun && remaining <= state.phaseLast) {
    // Counted in the same window as the request renewed last (its count only went down): the
    // next boundary comes after this one left, so that window's began less than w before.
    state.phaseLo = Math.max(state.phaseLo, sentAt - windowMs);
    state.phaseRunEnd = now;
  } else {
    state.phaseRun = false;
  }
  state.phaseLast = remaining;
  if (state.fixed && state.phaseLo >= state.phaseHi) {
    // No boundary fits what the answers said: not a window that turns every w.
    state.fixed = false;
    state.fixedOff = true;
  }
}

// --- request quotas that count requests at once ------------------------------------------------
//
// A concurrency limit announced without `qu="concurrent-requests"` (the older drafts,
// `X-RateLimit-*`, a draft-7 `w=1`) looks like a rate: a limit, a remaining count, a reset of 0
// or a second. What sets it apart is that the remaining count goes back up as soon as answers
// come back, not with time: the count reported plus the requests that were in flight when the
// request left (itself included) stays at the limit, while the count goes up and down. A window
// or a bucket that a client drains goes only down between its resets, and a client that spends
// it reads less and less than the limit. Found so, the key is capped at the limit in flight
// instead of paced; a 503 lowers the cap, a 429 or 403 says it was a rate after all.

const CONCURRENT_HITS = 4; // answers in a row at the limit …
const CONCURRENT_RISES = 2; // … of which this many went up
const CONCURRENT_WHOLE = 3; // or a window that stayed whole for so many answers in a row
const MAX_STARTS = 1024;
const CONCURRENT_RAISE_OKS = 64; // answers per request in flight before a cap from 503s is raised

function learnConcurrent(
  state: PaceState,
  policies: Policies,
  status: number,
  throttled: boolean,
  started: number | undefined,
): void {
  if (state.concurrentOff) return;
  if (throttled || status === 503) {
    state.concurrentHits = state.concurrentRises = state.concurrentWhole = 0;
    state.concurrentOks = 0;
    if (
      state.concurrent === 0 && status === 503 && policies.length === 0 && started !== undefined
    ) {
      // A 503 that says no limit (bare, or Retry-After alone): too many at once for the server.
      // The requests in flight are capped, not the rate.
      state.concurrent = Math.max(1, started - 1);
      state.known = true;
      return;
    }
    if (state.concurrent === 0) return;
    if (status === 503) {
      // Too many at once: one fewer than were in flight when the rejected request left.
      state.concurrent = Math.max(1, Math.min(state.concurrent, (started ?? 1) - 1));
    } else {
      state.concurrent = 0;
      state.concurrentOff = true;
    }
    return;
  }
  if (state.concurrent > 0 && policies.length === 0 && status < 400) {
    // Capped by 503s that said no limit: one more at once after a while without one, so that a
    // cap set too low (a 503 of a passing overload) comes back up.
    if (++state.concurrentOks >= CONCURRENT_RAISE_OKS * state.concurrent) {
      state.concurrent++;
      state.concurrentOks = 0;
    }
    return;
  }
  const open = policies.filter((p) => p.remaining !== undefined && p.quota !== undefined);
  if (open.length !== 1 || policies.length !== 1 || started === undefined) return;
  const { quota, remaining } = open[0];
  // A quota of one: one request per window and one at a time answer alike. Not told apart.
  if (quota! < 2) return;
  // Capped below the limit after a 503: a slot the server reports free is taken back.
  if (state.concurrent > 0 && state.concurrent < quota! && remaining! >= 1) state.concurrent++;
  // The requests counted in flight include some the server has already answered (answers that
  // land together): the sum may come out above the limit, not below it.
  // More left than the limit but one (a bucket whose burst is above its rate) is no count of
  // requests at once.
  // A quota that is back "now" (a reset of 0 or none) yet reports less than the limit left: the
  // rest is taken by requests in flight, or by requests of the current window. Any later reset
  // is a time, which a concurrency limit has none of (epoch resets rounded up to the second look
  // like a whole-second bucket, and are not told apart).
  const now0 = open[0].resetMs === undefined || open[0].resetMs === 0;
  if (!now0 || remaining! + started < quota! || remaining! >= quota!) {
    state.concurrentHits = state.concurrentRises = state.concurrentWhole = 0;
  } else {
    // Up from a spent quota is what a window does at its reset, up by one what a bucket does
    // as it refills: only a rise by two or more from a count above 0 counts, and none while the
    // key is paced as a bucket (its refill explains any rise).
    if (
      remaining! >= state.concurrentLast + 2 && state.concurrentLast >= 1 &&
      state.bucket === undefined
    ) {
      state.concurrentRises++;
    }
    state.concurrentHits++;
    // Paced at q per w (draft-7's `w=1`), the count never goes up: but a window that says it is
    // whole again now (a reset of 0) while each request sent alone finds one less than the
    // quota left, answer after answer, counts requests in flight. (A bucket paced at its rate
    // is full too, but says when it will be full again.)
    state.concurrentWhole = started === 1 && remaining! + 1 >= quota!
      ? state.concurrentWhole + 1
      : 0;
    const whole = open[0].windowMs !== undefined && state.concurrentWhole >= CONCURRENT_WHOLE;
    if (
      state.concurrent === 0 && state.concurrentHits >= CONCURRENT_HITS &&
      (state.concurrentRises >= CONCURRENT_RISES || whole)
    ) {
      state.concurrent = Math.max(1, quota!);
      // What was learned as a rate no longer applies: its pace, budget, bucket and hold.
      state.intervalMs = 0;
      state.tat = -Infinity;
      state.budgets.clear();
      state.bucket = undefined;
      state.holdUntil = -Infinity;
      state.holds.clear();
      state.probing = false;
    }
  }
  state.concurrentLast = remaining!;
}

// A concurrent-requests quota caps the requests in flight at once (at least one).
function learnConcurrency(state: PaceState, all: Policies): void {
  const caps = all.filter((p) => p.unit === "concurrent-requests" && p.quota !== undefined);
  if (caps.length > 0) state.maxInflight = Math.max(1, Math.min(...caps.map((p) => p.quota!)));
}

function learnBudgets(
  state: PaceState,
  policies: Policies,
  retryAfterMs: number | undefined,
  now: number,
  limits: PaceLimits,
): string[] {
  // The answer counted its own request; the others not answered yet may not have reached the
  // server. Answers already observed are not counted again (answers that land together).
  const others = Math.max(0, unanswered(state) - 1);
  const ids: string[] = [];
  for (const p of policies) {
    if (p.remaining === undefined) continue;
    let windowMs = retryAfterMs ?? p.resetMs ?? p.windowMs ?? limits.fallbackWindowMs;
    const id = policyId(p);
    ids.push(id);
    state.budgets.delete(id);
    // A refilling quota is paced at its learned rate, not held until its (rounded) reset; a
    // quota of requests at once caps the requests in flight instead.
    if (state.bucket !== undefined && bucketPolicy(policies) === p) continue;
    if (state.concurrent > 0 && policies.length === 1) continue;
    // A window that is already over (a reset of 0 or in the past: a replayed answer, a skewed
    // clock) still reports what is left now: count it for fallbackWindowMs, like a remaining
    // count without a window, instead of expiring it at once (which probed after every answer).
    const untimed = windowMs <= 0;
    if (untimed) windowMs = limits.fallbackWindowMs;
    // A bucket paced at its rate (its burst spent first) that is reported spent gets its next
    // request one refill later, not at a reset rounded up to whole seconds: the refill runs a
    // little ahead of the pace now and then, and the request that spends it leaves the next
    // paced one to find the bucket empty. A rejection ends the key's burst mode, and this.
    if (
      state.burst && p.remaining < 1 && retryAfterMs === undefined && state.intervalMs > 0 &&
      windowMs <= BUCKET_MAX_RESET_MS
    ) {
      windowMs = Math.min(windowMs, state.intervalMs);
    }
    const budget: Budget = {
      remaining: p.remaining - others,
      until: now + Math.min(windowMs, limits.maxHoldMs),
    };
    if (p.quota !== undefined) budget.quota = p.quota;
    if (p.windowMs !== undefined) budget.windowMs = p.windowMs;
    if (untimed) budget.untimed = true;
    // Spent: the key's own requests may leave room before this answer's reset (learnRun).
    if (
      p.remaining < 1 && retryAfterMs === undefined && state.runSpent &&
      p.quota !== undefined && bucketPolicy(policies) === p
    ) {
      const early = logFreeAt(state, p.quota, now, others);
      if (early < budget.until) budget.early = early;
    }
    state.budgets.set(id, budget);
  }
  for (const id of state.budgets.keys()) {
    if (state.budgets.size <= MAX_SERVER_POLICIES) break;
    state.budgets.delete(id);
  }
  return ids;
}
