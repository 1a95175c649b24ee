// Time limits for calls made one after another (a state store's decisions), without arming and
// clearing a timer per call. Calls with the same limit expire in the order they started, so each
// lane (one per limit, shared by all its callers) keeps a FIFO and one timer for its oldest live
// call, as `TimeoutQueue` does. When the last call ends, the timer is not cleared at once:
//
// - A lingering lane (`lingeringLane(ms)`, the `DistributedLimiter`s') keeps it armed but
//   unreferenced (it holds no process open) where the runtime can unreference a timer (Deno,
//   Node, Bun). The next call reuses it, however long after (one request at a time among other
//   work: each decision's timer would otherwise be armed and cleared). A lingering timer fires at
//   most once, at the deadline of the call it was armed for: it expires nothing that ended, and
//   re-arms for the oldest live call or stops. `release()` clears it (at once when no call is in
//   flight, else once they end).
// - Elsewhere (workerd and browsers, where a timer cannot be unreferenced and, in workerd, must
//   not be carried from one request to the next), and in lanes that do not linger, the timer
//   stays for a few microtask hops: a call started in the meantime (the caller's next decision,
//   awaited in a loop) reuses it; once idle past those hops it is cleared, before any macrotask
//   runs.

import { clearLongTimeout, setLongTimeout, type TimerHandle } from "./timer.ts";

/** One call's time limit; `expire` runs once when it passes, unless the call ended first. */
export interface LingeringTimeout {
  at: number;
  expire: (() => void) | undefined;
}

// Enough hops for a result to travel back through a few `await`s to a caller who starts the next
// call; more only delay the clearing of an idle timer (never past the current macrotask).
const LINGER_HOPS = 16;

// Unreferences (`false`) or references (`true`) a timer, where the runtime can: Node's, Bun's and
// Deno 2.9's timers are objects with `ref()`/`unref()`; older Deno's are numbers for
// `Deno.refTimer()`/`Deno.unrefTimer()` (looked up as a feature, so that the core needs no Deno
// types). workerd's and browsers' are numbers without either. Answers whether it could.
type Reffer = (handle: TimerHandle, ref: boolean) => boolean;

interface RefTimers {
  refTimer?: (id: number) => void;
  unrefTimer?: (id: number) => void;
}

const denoTimers = (globalThis as { Deno?: RefTimers }).Deno;

const setRef: Reffer = (handle, ref) => {
  if (typeof handle === "number") {
    const deno = denoTimers;
    if (typeof deno?.unrefTimer !== "function" || typeof deno.refTimer !== "function") {
      return false;
    }
    if (ref) deno.refTimer(handle);
    else deno.unrefTimer(handle);
    return true;
  }
  const timer = handle as { ref?: unknown; unref?: unknown };
  if (typeof timer.unref !== "function" || typeof timer.ref !== "function") return false;
  if (ref) (timer.ref as () => void)();
  else (timer.unref as () => void)();
  return true;
};

/**
 * The time limits of calls that share one duration `ms`, with one timer between them. A lane
 * that lingers keeps its timer (unreferenced) between calls; `release()` clears it.
 */
export class TimeoutLane {
  readonly ms: number;
  readonly #linger: boolean;
  // Clear the timer (through the idle check) when the calls in flight have ended.
  #release = false;
  #items: (LingeringTimeout | undefined)[] = [];
  #head = 0;
  #live = 0;
  #timer: TimerHandle | undefined;
  // The timer lingers, unreferenced, with no live call.
  #idle = false;
  #hops = -1; // >= 0 while an idle check runs

  /**
   * @param ms The time limit of every call (finite, > 0).
   * @param linger Keep the timer between calls where it can be unreferenced.
   */
  constructor(ms: number, linger: boolean) {
    this.ms = ms;
    this.#linger = linger;
  }

  /** Runs `expire` after `ms`, unless {@linkcode TimeoutLane.end} comes first. */
  start(expire: () => void): LingeringTimeout {
    if (this.#live === 0) {
      if (this.#head < this.#items.length) {
        // Every call in the FIFO has ended: start it afresh (a lingering timer fires early, finds
        // nothing due and re-arms for this call).
        this.#items = [];
        this.#head = 0;
      }
      if (this.#idle) {
        this.#idle = false;
        setRef(this.#timer!, true);
      }
    }
    const item: LingeringTimeout = { at: performance.now() + this.ms, expire };
    this.#items.push(item);
    this.#live++;
    if (this.#timer === undefined) this.#arm(this.ms);
    return item;
  }

  /** Ends a call's time limit: `expire` will not run. */
  end(item: LingeringTimeout): void {
    if (item.expire === undefined) return;
    item.expire = undefined;
    if (--this.#live > 0 || this.#timer === undefined) return; // (no timer: #fire cleans up)
    if (this.#linger && !this.#release && setRef(this.#timer, false)) {
      this.#idle = true;
    } else if (this.#hops < 0) {
      this.#hops = 0;
      queueMicrotask(this.#check);
    }
  }

  /**
   * Clears the timer: now when no call is in flight, else once the calls in flight have ended
   * (they still time out). Later calls arm it again, and it lingers again after them.
   */
  release(): void {
    if (this.#live === 0) this.#stop();
    else this.#release = true;
  }

  /** Whether a timer is armed (for tests). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#idle = false;
    const now = performance.now();
    const items = this.#items;
    while (this.#head < items.length) {
      const item = items[this.#head]!;
      if (item.expire !== undefined) {
        if (item.at > now) break;
        const expire = item.expire;
        item.expire = undefined;
        this.#live--;
        expire();
      }
      items[this.#head++] = undefined;
    }
    if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#live > 0) this.#arm(this.#items[this.#head]!.at - now);
    else if (this.#hops < 0) this.#stop();
  };

  readonly #check = (): void => {
    if (this.#live > 0) {
      this.#hops = -1;
    } else if (++this.#hops < LINGER_HOPS) {
      queueMicrotask(this.#check);
    } else {
      this.#hops = -1;
      this.#stop();
    }
  };

  #stop(): void {
    this.#release = false;
    clearLongTimeout(this.#timer);
    this.#timer = undefined;
    this.#idle = false;
    this.#items = [];
    this.#head = 0;
  }

  #arm(ms: number): void {
    const timer = setLongTimeout(this.#fire, Math.max(0, ms));
    // Arming can run microtasks (see setLongTimeout): a call started meanwhile armed the lane's
    // timer already, for a later call that expires this one on its way; or every call ended, and
    // nothing is left to time.
    if (this.#timer === undefined && this.#live > 0) this.#timer = timer;
    else clearLongTimeout(timer);
  }
}

// Lanes that do not linger, one per duration, for callers without a lane of their own; and
// lanes that do.
const lanes = new Map<number, TimeoutLane>();
const lingering = new Map<number, TimeoutLane>();

/** The lingering lane of calls limited to `ms` (finite, > 0), shared by all its callers. */
export function lingeringLane(ms: number): TimeoutLane {
  let lane = lingering.get(ms);
  if (lane === undefined) lingering.set(ms, lane = new TimeoutLane(ms, true));
  return lane;
}

/** Runs `expire` after `ms` (finite), unless {@linkcode endTimeout} comes first. */
export function startTimeout(ms: number, expire: () => void): LingeringTimeout {
  let lane = lanes.get(ms);
  if (lane === undefined) lanes.set(ms, lane = new TimeoutLane(ms, false));
  return lane.start(expire);
}

/** Ends a call's time limit: `expire` will not run. */
export function endTimeout(ms: number, item: LingeringTimeout): void {
  lanes.get(ms)!.end(item);
}
