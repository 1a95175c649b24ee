// Where a job goes: the session's worker while its entry is fresh and that worker has room,
// else the least-loaded worker (and the session follows it).

import type { Clock } from "../core/clock.ts";
import type { Affinity } from "./_affinity.ts";
import { Lane } from "./_job.ts";

export class Router {
  /** The workers, indexed by id. */
  readonly lanes: Lane[] = [];
  #limit: number;
  #affinity: Affinity;
  #clock: Clock;
  #cursor = 0;

  /**
   * @param limit The most jobs (running + queued) a worker takes.
   */
  constructor(
    workers: number,
    limit: number,
    affinity: Affinity,
    clock: Clock,
    closeSignal: AbortSignal,
  ) {
    for (let id = 0; id < workers; id++) this.lanes.push(new Lane(id, closeSignal));
    this.#limit = limit;
    this.#affinity = affinity;
    this.#clock = clock;
  }

  get sessions(): number {
    return this.#affinity.size;
  }

  /** The worker for a job, or undefined when every queue it may use is full. */
  select(session: string | undefined): Lane | undefined {
    if (session === undefined) {
      const lane = this.#leastLoaded();
      return lane.inflight + lane.queue.size < this.#limit ? lane : undefined;
    }
    const now = this.#clock.now();
    const entry = this.#affinity.lookup(session, now);
    if (entry !== undefined) {
      const pinned = this.lanes[entry.workerId];
      if (pinned.inflight + pinned.queue.size < this.#limit) {
        this.#affinity.assign(session, pinned.id, now, entry);
        return pinned;
      }
    }
    const lane = this.#leastLoaded();
    if (lane.inflight + lane.queue.size >= this.#limit) return undefined;
    this.#affinity.assign(session, lane.id, now, entry);
    return lane;
  }

  // Scans from a rotating cursor and keeps the first minimum, so ties are taken in turn; stops
  // early at an idle worker.
  #leastLoaded(): Lane {
    const lanes = this.lanes;
    const count = lanes.length;
    let best = lanes[this.#cursor];
    let bestLoad = best.inflight + best.queue.size;
    for (let step = 1; step < count && bestLoad > 0; step++) {
      let index = this.#cursor + step;
      if (index >= count) index -= count;
      const lane = lanes[index];
      const load = lane.inflight + lane.queue.size;
      if (load < bestLoad) {
        best = lane;
        bestLoad = load;
      }
    }
    this.#cursor = best.id + 1 === count ? 0 : best.id + 1;
    return best;
  }
}
