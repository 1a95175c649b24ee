// Defaults and validation of DispatcherOptions, worded like every fluxpool constructor:
// "Cannot create Dispatcher as 'opt' must be ...: received V". A Pool validates the options it
// passes on under its own name, so that its users read "Pool".

import { type Clock, systemClock } from "../core/clock.ts";
import { fail, failType, integer } from "../core/validate.ts";
import type { DispatcherOptions } from "./dispatcher_options.ts";

/** The most workers a dispatcher runs: each is a lane that every pick scans. */
export const MAX_WORKERS = 1024;

export interface ResolvedOptions {
  workers: number;
  concurrency: number;
  queueCapacity: number;
  affinityTtlMs: number;
  reject: boolean;
  clock: Clock;
  maxSessions: number;
}

export function resolveOptions(
  options: DispatcherOptions | undefined,
  owner = "Dispatcher",
): ResolvedOptions {
  const {
    workers = 4,
    concurrency = 4,
    queueCapacity = 1000,
    affinityTtlMs = 300_000,
    overflow = "wait",
    clock = systemClock,
    maxSessions = 10_000,
  } = options ?? {};
  if (integer(owner, "workers", workers, 1) > MAX_WORKERS) {
    fail(owner, "workers", `an integer from 1 to ${MAX_WORKERS}`, workers);
  }
  integer(owner, "concurrency", concurrency, 1, true);
  integer(owner, "queueCapacity", queueCapacity, 0, true);
  if (typeof affinityTtlMs !== "number" || !(affinityTtlMs >= 0)) {
    fail(owner, "affinityTtlMs", "a number >= 0", affinityTtlMs);
  }
  if (overflow !== "wait" && overflow !== "reject") {
    fail(owner, "overflow", `"wait" or "reject"`, overflow);
  }
  if (typeof clock?.now !== "function") {
    failType(owner, "clock", "an object with a now() method", clock);
  }
  integer(owner, "maxSessions", maxSessions, 1);
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
