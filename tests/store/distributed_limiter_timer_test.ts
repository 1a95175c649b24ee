// The timer that bounds a DistributedLimiter's store calls by `timeoutMs`: it lingers between
// decisions made among other work (armed once, not once per decision), still times a call out
// on time afterwards, is cleared by close(), and holds no process open while it lingers. These
// tests turn Deno's op and resource sanitizers on (off by default since Deno 2.8), so a timer
// left armed at the end fails them.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { isTimeoutError } from "../../mod.ts";
import { DistributedLimiter, MemoryStore, type StateStore } from "../../src/store/mod.ts";
import { timersArmed } from "../_counters.ts";

const strict = { sanitizeOps: true, sanitizeResources: true };

// A macrotask between two decisions: what a server does in between (another client's request).
const otherWork = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// A MemoryStore for the first `quick` calls; later calls answer (as it would) only when released.
function stallingStore(quick: number): StateStore & { release(): void } {
  const memory = new MemoryStore();
  let calls = 0;
  const stalled: (() => void)[] = [];
  return {
    decide: (...args) =>
      calls++ < quick
        ? memory.decide(...args)
        : new Promise((resolve) => stalled.push(() => resolve(memory.decide(...args)))),
    reset: (key) => memory.reset(key),
    release: () => stalled.splice(0).forEach((resolve) => resolve()),
  };
}

Deno.test({
  name: "DistributedLimiter arms one timer for decisions made among other work",
  ...strict,
  async fn() {
    const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1e6, burst: 1e6 });
    const armed = await timersArmed(async () => {
      for (let i = 0; i < 50; i++) {
        assert.equal((await limiter.check("k")).source, "store");
        await otherWork();
      }
    }, 1000);
    limiter.close();
    assert.ok(armed <= 1, `${armed} timers for 50 decisions`);
  },
});

Deno.test({
  name: "DistributedLimiter times a decision out after its timer lingered, not before",
  ...strict,
  async fn() {
    const store = stallingStore(3);
    const limiter = new DistributedLimiter({ store, rate: 1e6, burst: 1e6, timeoutMs: 60 });
    for (let i = 0; i < 3; i++) {
      assert.equal((await limiter.check("k")).source, "store");
      await otherWork();
    }
    // The timer armed for the first decision fires about 30 ms into the next one: it must not
    // expire it then, but at its own deadline.
    await sleep(30);
    const started = performance.now();
    const decision = await limiter.check("k");
    const waited = performance.now() - started;
    assert.equal(decision.source, "fallback");
    assert.ok(isTimeoutError(decision.storeError));
    assert.ok(waited >= 55, `timed out after ${waited.toFixed(1)} ms of 60`);
    // And again after it, on the same lane.
    assert.equal((await limiter.check("k")).source, "fallback");
    limiter.close();
    store.release();
  },
});

Deno.test({
  name: "DistributedLimiter.close() clears the lingering timer; decisions still work after it",
  ...strict,
  async fn() {
    const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1e-3, burst: 5 });
    assert.equal((await limiter.check("k")).source, "store");
    await otherWork();
    limiter.close();
    limiter.close(); // twice is fine
    // After close() the timer is cleared after each decision (the sanitizers check both).
    assert.equal((await limiter.check("k")).remaining, 3);
    await otherWork();
    assert.equal((await limiter.peek("k")).remaining, 2); // as check() would answer
    await limiter.reset("k");
    assert.equal((await limiter.peek("k")).remaining, 4);
  },
});

Deno.test({
  name: "DistributedLimiter.close() during a decision still times it out, then leaves no timer",
  ...strict,
  async fn() {
    const store = stallingStore(1);
    const limiter = new DistributedLimiter({ store, rate: 1e6, burst: 1e6, timeoutMs: 30 });
    assert.equal((await limiter.check("k")).source, "store");
    await otherWork();
    const pending = limiter.check("k");
    limiter.close();
    const decision = await pending;
    assert.equal(decision.source, "fallback");
    assert.ok(isTimeoutError(decision.storeError));
    store.release();
  },
});

Deno.test({
  name:
    "DistributedLimiters of one timeoutMs share one timer, cleared by close() of either once calls in flight end",
  ...strict,
  async fn() {
    const store = stallingStore(40);
    const a = new DistributedLimiter({ store, rate: 1e6, burst: 1e6, timeoutMs: 300 });
    const b = new DistributedLimiter({ store, rate: 1e6, burst: 1e6, timeoutMs: 300 });
    const armed = await timersArmed(async () => {
      for (let i = 0; i < 20; i++) {
        assert.equal((await a.check("a")).source, "store");
        await otherWork();
        assert.equal((await b.check("b")).source, "store");
        await otherWork();
      }
    }, 300);
    assert.ok(armed <= 1, `${armed} timers for 40 decisions of two limiters`);
    // b's decision is in flight when a closes: the shared timer is cleared once it has ended.
    const pending = b.check("b");
    a.close();
    await otherWork();
    store.release();
    assert.equal((await pending).source, "store");
  },
});

Deno.test({
  name: "DistributedLimiter with timeoutMs Infinity arms no timer and close() is a no-op",
  ...strict,
  async fn() {
    const limiter = new DistributedLimiter({
      store: new MemoryStore(),
      rate: 10,
      timeoutMs: Infinity,
    });
    assert.equal((await limiter.check("k")).source, "store");
    limiter.close();
  },
});

// In a child process: a limiter whose timer lingers for up to 10 minutes must let the process
// end as soon as its work is done; a decision in flight after a lingering period must still keep
// it alive until it times out (the timer is referenced again while a call is in flight).
const root = fileURLToPath(new URL("../../", import.meta.url));
const script = `import { DistributedLimiter, MemoryStore } from ${
  JSON.stringify(`${root}src/store/mod.ts`)
};
const otherWork = () => new Promise((resolve) => setTimeout(resolve, 0));
const idle = new DistributedLimiter({ store: new MemoryStore(), rate: 10, timeoutMs: 600000 });
console.log((await idle.check("k")).source);
await otherWork();
console.log((await idle.check("k")).source);
const memory = new MemoryStore();
let calls = 0;
const store = {
  decide: (...args) => calls++ === 0 ? memory.decide(...args) : new Promise(() => {}),
  reset: (key) => memory.reset(key),
};
const slow = new DistributedLimiter({ store, rate: 10, timeoutMs: 200 });
console.log((await slow.check("k")).source);
await otherWork();
// Not awaited: only the limiter's timer keeps the process alive until the answer.
slow.check("k").then((decision) => console.log(decision.source));
`;

async function runScript(command: string, args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "fluxpool-timer-" });
  try {
    await Deno.writeTextFile(`${dir}/linger.mts`, script);
    const { code, stdout, stderr } = await new Deno.Command(command, {
      args: [...args, `${dir}/linger.mts`],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
      // Far below the lingering timer's 10 minutes: a process it held open is killed here.
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder();
    return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const runtimes: [string, string, string[]][] = [
  ["Deno", Deno.execPath(), ["run", "--allow-read", "--allow-env"]],
  ["Node (tsx)", "node", [`${root}node_modules/tsx/dist/cli.mjs`]],
  ["Bun", `${root}node_modules/bun/bin/bun.exe`, ["run"]],
];
for (const [name, command, args] of runtimes) {
  Deno.test(`DistributedLimiter's lingering timer holds no process open in ${name}`, async () => {
    const { code, stdout, stderr } = await runScript(command, args);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "store\nstore\nstore\nfallback\n");
  });
}
