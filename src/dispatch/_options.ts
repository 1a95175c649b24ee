// Defaults and validation of DispatcherOptions, worded like every fluxpool constructor:
// "Cannot create Dispatcher as 'opt' must be ...: received V".

import { type Clock, systemClock } from "../limiter/clock.ts";
import { describe, integer } from "../limiter/_validate.ts";
import type { DispatcherOptions } from "./dispatcher_options.ts";

const OWNER = "Dispatcher";

export interface ResolvedOptions {
  workers: number;
  concurrency: number;
  queueCapacity: number;
  affinityTtlMs: number;
  reject: boolean;
  clock: Clock;
  maxSessions: number;
}

function fail(name: string, rule: string, value: unknown): never {
  const message = `Cannot create Dispatcher as '${name}' must be ${rule}: received ${
    describe(value)
  }`;
  throw typeof value === "number" ? new RangeError(message) : new TypeError(message);
}

export function resolveOptions(options: DispatcherOptions | undefined): ResolvedOptions {
  const {
    workers = 4,
    concurrency = 4,
    queueCapacity = 1000,
    affinityTtlMs = 300_000,
    overflow = "wait",
    clock = systemClock,
    maxSessions = 10_000,
  } = options ?? {};
  integer(OWNER, "workers", workers, 1);
  integer(OWNER, "concurrency", concurrency, 1, true);
  integer(OWNER, "queueCapacity", queueCapacity, 0, true);
  if (typeof affinityTtlMs !== "number" || !(affinityTtlMs >= 0)) {
    fail("affinityTtlMs", "a number >= 0", affinityTtlMs);
  }
  if (overflow !== "wait" && overflow !== "reject") {
    fail("overflow", `"wait" or "reject"`, overflow);
  }
  if (typeof clock?.now !== "function") {
    throw new TypeError(
      `Cannot create Dispatcher as 'clock' must have a now() method: received ${typeof clock}`,
    );
  }
  integer(OWNER, "maxSessions", maxSessions, 1);
  return {
    workers,
    concurrency,
    queueCapacity,
    affinityTtlMs,
    reject: overflow === "reject",
    clock,
    maxSessions,
  };
}
