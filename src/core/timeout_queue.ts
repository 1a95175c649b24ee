// Per-attempt timeouts without a timer per attempt. Attempts with the same timeout expire in the
// order they started, so each distinct timeout keeps a FIFO and one timer armed for its oldest
// live entry. Adding and clearing are O(1) (cleared entries are skipped when they reach the head),
// and the timer is cleared as soon as nothing is pending, so no timer outlives the work.

import { clearLongTimeout, setLongTimeout, type TimerHandle } from "./timer.ts";

export interface TimeoutEntry {
  at: number;
  controller: AbortController | undefined;
  reason: (() => Error) | undefined;
}

class Lane {
  items: TimeoutEntry[] = [];
  head = 0;
  live = 0;
  timer: TimerHandle | undefined;
}

export class TimeoutQueue {
  #lanes = new Map<number, Lane>();

  /** Aborts `controller` with `reason()` after `ms`, unless cleared first. */
  add(ms: number, controller: AbortController, reason: () => Error): TimeoutEntry {
    let lane = this.#lanes.get(ms);
    if (lane === undefined) this.#lanes.set(ms, lane = new Lane());
    if (lane.live === 0) {
      lane.items = [];
      lane.head = 0;
    }
    const entry: TimeoutEntry = { at: performance.now() + ms, controller, reason };
    lane.items.push(entry);
    lane.live++;
    if (lane.timer === undefined) this.#arm(ms, lane, entry.at);
    return entry;
  }

  /** Forgets `entry`: its controller will not be aborted by this queue. */
  clear(ms: number, entry: TimeoutEntry): void {
    if (entry.controller === undefined) return;
    entry.controller = undefined;
    entry.reason = undefined;
    const lane = this.#lanes.get(ms)!;
    if (--lane.live === 0 && lane.timer !== undefined) {
      clearLongTimeout(lane.timer);
      lane.timer = undefined;
    }
  }

  /** Aborts every pending entry's controller with `reason` now, and clears the timers. */
  abortAll(reason: Error): void {
    for (const lane of this.#lanes.values()) {
      clearLongTimeout(lane.timer);
      lane.timer = undefined;
      const items = lane.items;
      for (let i = lane.head; i < items.length; i++) {
        const controller = items[i].controller;
        if (controller === undefined) continue;
        items[i].controller = undefined;
        items[i].reason = undefined;
        controller.abort(reason);
      }
      lane.items = [];
      lane.head = 0;
      lane.live = 0;
    }
  }

  #arm(ms: number, lane: Lane, at: number): void {
    const timer = setLongTimeout(() => this.#fire(ms, lane), Math.max(0, at - performance.now()));
    // Arming can run microtasks (see setLongTimeout): an attempt started meanwhile armed the
    // lane's timer already, for a later entry that expires this one on its way; or every entry
    // was cleared, and nothing is left to time.
    if (lane.timer === undefined && lane.live > 0) lane.timer = timer;
    else clearLongTimeout(timer);
  }

  #fire(ms: number, lane: Lane): void {
    lane.timer = undefined;
    const now = performance.now();
    const items = lane.items;
    while (lane.head < items.length) {
      const entry = items[lane.head];
      if (entry.controller !== undefined) {
        if (entry.at > now) break;
        const { controller, reason } = entry;
        entry.controller = undefined;
        lane.live--;
        controller.abort(reason!());
      }
      items[lane.head++] = undefined as unknown as TimeoutEntry;
    }
    if (lane.head > 1024 && lane.head * 2 > items.length) {
      lane.items = items.slice(lane.head);
      lane.head = 0;
    }
    if (lane.live > 0) this.#arm(ms, lane, lane.items[lane.head].at);
  }
}
