// Starting and disposing of a Miniflare so that nothing it opened or started outlives the test
// (Deno's op and resource sanitizers). Three things of Miniflare's own would otherwise:
// - its synchronous fetcher's MessageChannel (`node:worker_threads`), made as it starts and
//   never closed, not even by `dispose()`: `startMiniflare()` keeps the channels made while it
//   starts and `disposeMiniflare()` closes them;
// - the removal of its temporary directory, which `dispose()` starts (`fs.promises.rm`) without
//   awaiting it: `disposeMiniflare()` awaits it;
// - the timer of undici, its HTTP client, that times connects: one timer for all, ticking every
//   499 ms and stopping at the first tick that finds none left: `disposeMiniflare()` waits one
//   tick longer.
import fs from "node:fs";
import workerThreads from "node:worker_threads";
import { Miniflare, type MiniflareOptions } from "miniflare";

const UNDICI_TICK_MS = 499;

type Channel = InstanceType<typeof workerThreads.MessageChannel>;

const channels = new WeakMap<Miniflare, Channel[]>();

/** Starts a Miniflare and resolves once it is ready. */
export async function startMiniflare(options: MiniflareOptions): Promise<Miniflare> {
  const made: Channel[] = [];
  const MessageChannel = workerThreads.MessageChannel;
  workerThreads.MessageChannel = class extends MessageChannel {
    constructor() {
      super();
      made.push(this);
    }
  };
  let mf: Miniflare | undefined;
  try {
    mf = new Miniflare(options);
    channels.set(mf, made);
    await mf.ready;
    return mf;
  } catch (error) {
    if (mf !== undefined) await disposeMiniflare(mf);
    throw error;
  } finally {
    workerThreads.MessageChannel = MessageChannel;
  }
}

/** Disposes of `mf` and waits for what its `dispose()` leaves running (see above). */
export async function disposeMiniflare(mf: Miniflare): Promise<void> {
  const rm = fs.promises.rm;
  const removals: Promise<void>[] = [];
  fs.promises.rm = (...args: Parameters<typeof rm>) => {
    const removal = rm(...args);
    removals.push(removal.catch(() => {}));
    return removal;
  };
  try {
    await mf.dispose();
  } finally {
    fs.promises.rm = rm;
  }
  for (const channel of channels.get(mf) ?? []) {
    channel.port1.close();
    channel.port2.close();
  }
  await Promise.all(removals);
  await new Promise((resolve) => setTimeout(resolve, UNDICI_TICK_MS + 100));
}
