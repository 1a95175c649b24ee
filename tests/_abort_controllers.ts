// Counts the AbortControllers made while a function runs, for tests of code paths that should
// make none.

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
