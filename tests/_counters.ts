// Counts what a function makes while it runs (AbortControllers, timers), for tests of code
// paths that should make none, or one.

/** How many AbortControllers were constructed while `fn` ran (the global is restored after). */
export async function controllersMade(fn: () => Promise<void>): Promise<number> {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  try {
    await fn();
  } finally {
    globalThis.AbortController = Original;
  }
  return made;
}

/**
 * How many timers were armed with `setTimeout` while `fn` ran, or only those with a delay of
 * `ms` when given (a test's own waits use others). The global is restored after.
 */
export async function timersArmed(fn: () => Promise<void>, ms?: number): Promise<number> {
  const original = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    if (ms === undefined || args[1] === ms) armed++;
    return original(...args);
  }) as typeof setTimeout;
  try {
    await fn();
  } finally {
    globalThis.setTimeout = original;
  }
  return armed;
}
