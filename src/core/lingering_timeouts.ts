// Time limits for calls made one after another (a state store's decisions), without arming and
// clearing a timer per call. Calls with the same limit expire in the order they started, so each
// limit keeps a FIFO and one timer for its oldest live call, as `TimeoutQueue` does; unlike it,
// when the last call ends the timer lingers for a few microtask hops, and a call that starts in
// the meantime (the caller's next decision, awaited in a loop) reuses it. Once idle past those
// hops the timer is cleared, before any macrotask runs: no timer outlives the work.

import { clearLongTimeout, setLongTimeout, type TimerHandle } from "./timer.ts";

/** One call's time limit; `expire` runs once when it passes, unless the call ended first. */
export interface LingeringTimeout {
  at: number;
  expire: (() => void) | undefined;
}

// Enough hops for a result to travel back through a few `await`s to a caller who starts the next
// call; more only delay the clearing of an idle timer (never past the current macrotask).
const LINGER_HOPS = 16;

class Lane {
  items: (LingeringTimeout | undefined)[] = [];
  head = 0;
  live = 0;
  timer: TimerHandle | undefined;
  hops = -1; // >= 0 while an idle check runs
  readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }

  readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const items = this.items;
    while (this.head < items.length) {
      const item = items[this.head]!;
      if (item.expire !== undefined) {
        if (item.at > now) break;
        const expire = item.expire;
        item.expire = undefined;
        this.live--;
        expire();
      }
      items[this.head++] = undefined;
    }
    if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
    if (this.live > 0) this.arm(this.items[this.head]!.at - now);
  };

  readonly idle = (): void => {
    if (this.live > 0) {
      this.hops = -1;
    } else if (++this.hops < LINGER_HOPS) {
      queueMicrotask(this.idle);
    } else {
      this.hops = -1;
      clearLongTimeout(this.timer);
      this.timer = undefined;
      this.items = [];
      this.head = 0;
    }
  };

  arm(ms: number): void {
    this.timer = setLongTimeout(this.fire, Math.max(0, ms));
  }
}

const lanes = new Map<number, Lane>();

/** Runs `expire` after `ms` (finite), unless {@linkcode endTimeout} comes first. */
export function startTimeout(ms: number, expire: () => void): LingeringTimeout {
  let lane = lanes.get(ms);
  if (lane === undefined) lanes.set(ms, lane = new Lane(ms));
  if (lane.live === 0 && lane.head < lane.items.length) {
    // Every call in the FIFO has ended: start it afresh (a lingering timer fires early, finds
    // nothing due and re-arms for this call).
    lane.items = [];
    lane.head = 0;
  }
  const item: LingeringTimeout = { at: performance.now() + ms, expire };
  lane.items.push(item);
  lane.live++;
  if (lane.timer === undefined) lane.arm(ms);
  return item;
}

/** Ends a call's time limit: `expire` will not run. */
export function endTimeout(ms: number, item: LingeringTimeout): void {
  if (item.expire === undefined) return;
  item.expire = undefined;
  const lane = lanes.get(ms)!;
  if (--lane.live === 0 && lane.hops < 0) {
    lane.hops = 0;
    queueMicrotask(lane.idle);
  }
}
