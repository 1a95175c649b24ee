// The FIFO of waiting jobs: a worker's queue, or the jobs waiting for queue space. Singly linked
// through the jobs themselves, so a queued job carries one link, not three. An aborted job is not
// unlinked (that would need a back link): it is marked dead, stops counting in `size` and is
// skipped when it reaches the front; when the dead outnumber the live, one pass unlinks them all,
// so a queue whose front never moves (a stuck worker) still holds O(live) jobs.

/** What a {@linkcode JobQueue} holds: a node with a forward link and a liveness test. */
export interface QueuedJob<J> {
  next: J | undefined;
  /** Settles the job's promise; undefined once the job was taken out (aborted) while queued. */
  resolve: ((value: never) => void) | undefined;
}

// Dead jobs tolerated beyond the live count before a compaction, so that a short queue does not
// compact on every abort.
const SLACK = 16;

export class JobQueue<J extends QueuedJob<J>> {
  #head: J | undefined = undefined;
  #tail: J | undefined = undefined;
  /** Live jobs. */
  size = 0;
  #dead = 0;

  /** Jobs still linked, dead ones included (for tests of the memory bound). */
  get linked(): number {
    return this.size + this.#dead;
  }

  push(job: J): void {
    job.next = undefined;
    if (this.#tail === undefined) this.#head = job;
    else this.#tail.next = job;
    this.#tail = job;
    this.size++;
  }

  /** The first live job, left in place. */
  peek(): J | undefined {
    this.#skipDead();
    return this.#head;
  }

  /** Takes the first live job out. */
  shift(): J | undefined {
    this.#skipDead();
    const job = this.#head;
    if (job === undefined) return undefined;
    this.#head = job.next;
    if (this.#head === undefined) this.#tail = undefined;
    job.next = undefined;
    this.size--;
    return job;
  }

  /** Counts out a job the caller marked dead (`resolve` cleared) while it is in this queue. */
  discard(): void {
    this.size--;
    if (++this.#dead > this.size + SLACK) this.#compact();
  }

  #skipDead(): void {
    let job = this.#head;
    while (job !== undefined && job.resolve === undefined) {
      this.#dead--;
      const next: J | undefined = job.next;
      job.next = undefined;
      job = next;
    }
    this.#head = job;
    if (job === undefined) this.#tail = undefined;
  }

  #compact(): void {
    let last: J | undefined = undefined;
    for (let job = this.#head; job !== undefined;) {
      const next: J | undefined = job.next;
      if (job.resolve !== undefined) {
        if (last === undefined) this.#head = job;
        else last.next = job;
        last = job;
      } else job.next = undefined;
      job = next;
    }
    if (last === undefined) this.#head = undefined;
    else last.next = undefined;
    this.#tail = last;
    this.#dead = 0;
  }
}
