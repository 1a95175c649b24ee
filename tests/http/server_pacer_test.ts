import assert from "node:assert/strict";
import { FluxLimiter } from "../../mod.ts";
import { ServerPacer } from "../../src/http/headers.ts";
import fc from "fast-check";
import { ManualClock } from "../../src/testing/mod.ts";
import { assertPassesAlone } from "../_first_timer.ts";

// A loopback API that enforces GCRA (50/s, burst 10) and says so in its headers.
type Style = "ietf" | "x" | "epoch";
const RATE = 50;

function serve(style: Style): Deno.HttpServer<Deno.NetAddr> {
  const limiter = new FluxLimiter({ rate: RATE, burst: 10 });
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    const d = limiter.check("client");
    const headers = new Headers();
    if (style === "ietf") {
      headers.set("RateLimit-Policy", `"default";q=${RATE};w=1`);
      headers.set("RateLimit", `"default";r=${d.remaining};t=${Math.ceil(d.resetAfterMs / 1000)}`);
    } else {
      headers.set("X-RateLimit-Limit", String(d.limit));
      headers.set("X-RateLimit-Remaining", String(d.remaining));
      headers.set("X-RateLimit-Reset", String(Math.ceil((Date.now() + d.resetAfterMs) / 1000)));
      headers.set("X-RateLimit-Reset-After", (Math.ceil(d.resetAfterMs) / 1000).toFixed(3));
    }
    if (d.allowed) return new Response("ok", { headers });
    headers.set("Retry-After", String(Math.ceil(d.retryAfterMs / 1000)));
    return new Response("slow down", { status: 429, headers });
  });
}

async function run(style: Style, probeFirst: boolean, total = 200, callers = 16) {
  const server = serve(style);
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const pacer = new ServerPacer({ probeFirst });
  let issued = 0, ok = 0, throttled = 0;
  const start = performance.now();
  async function caller(): Promise<void> {
    while (issued < total) {
      issued++;
      const release = await pacer.acquire("api");
      try {
        const response = await fetch(url);
        pacer.observe("api", response);
        await response.body?.cancel();
        if (response.status === 429) throttled++;
        else ok++;
      } finally {
        release();
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: callers }, caller));
  } finally {
    await server.shutdown();
  }
  const seconds = (performance.now() - start) / 1000;
  return { ok, throttled, seconds, share: throttled / total, throughput: ok / seconds / RATE };
}

// The acceptance test: 16 callers with no client-side limit of their own, all starting at once
// on a cold key. Only the first wave, sent before any answer, can overrun the server.
for (const [style, probeFirst] of [["ietf", false], ["x", false], ["ietf", true]] as const) {
  const name = `${style} headers${probeFirst ? ", probeFirst" : ""}`;
  Deno.test(`ServerPacer keeps 16 callers under a GCRA server's limit (${name})`, async () => {
    const r = await run(style, probeFirst);
    console.log(
      `${name}: ${r.ok} ok, ${r.throttled} × 429 (${(r.share * 100).toFixed(1)} %) in ` +
        `${r.seconds.toFixed(2)} s = ${(r.throughput * 100).toFixed(0)} % of the server's rate`,
    );
    assert.ok(r.share <= 0.1, `429 share ${r.share}`);
    if (probeFirst) assert.equal(r.throttled, 0);
    assert.ok(r.throughput >= 0.7, `throughput ${r.throughput} of the server's rate`);
  });
}

// --- unit tests on a ManualClock ----------------------------------------------------------------

const T0 = Date.UTC(2026, 0, 1);

function answer(headers: Record<string, string>, status = 200): Response {
  return new Response(null, { status, headers });
}

const ietf = (r: number, t = 1, q = 10, w = 1): Response =>
  answer({ "RateLimit-Policy": `"default";q=${q};w=${w}`, "RateLimit": `"default";r=${r};t=${t}` });

/** An `X-RateLimit-*` answer with a delta reset in seconds; a 429 says `Retry-After: 1`. */
const xAnswer = (limit: number, remaining: number, reset: number, status = 200): Response =>
  answer({
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(remaining),
    "X-RateLimit-Reset": String(reset),
    ...(status === 429 ? { "Retry-After": "1" } : {}),
  }, status);

// Resolves after pending microtasks (promise callbacks) have run.
function settle(): Promise<void> {
  return new Promise((resolve) => queueMicrotask(() => queueMicrotask(resolve)));
}

function track<T>(promise: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then((value) => {
    state.done = true;
    state.value = value;
  }, (error) => {
    state.done = true;
    state.error = error;
  });
  return state;
}

Deno.test("ServerPacer.acquire() resolves at once for a key the server never described", async () => {
  const pacer = new ServerPacer({ clock: new ManualClock(T0) });
  const releases = await Promise.all(Array.from({ length: 100 }, () => pacer.acquire("k")));
  pacer.observe("k", new Response("no headers"));
  assert.equal(pacer.delay("k"), 0);
  const more = await Promise.all(Array.from({ length: 100 }, () => pacer.acquire("k")));
  for (const release of [...releases, ...more]) release();
  assert.equal(pacer.delay("unseen"), 0);
});

Deno.test("ServerPacer.tryAcquire() grants what acquire() would grant at once, and nothing else", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const first = pacer.tryAcquire("k");
  assert.equal(typeof first, "function");
  pacer.observe(
    "k",
    new Response(null, {
      // 2 of 10 left: a bucket's burst (a window would be whole), spent down to its last
      // request, then paced at q / w.
      headers: { "RateLimit-Policy": '"p";q=10;w=1', "RateLimit": '"p";r=2;t=1' },
    }),
  );
  first!();
  const second = pacer.tryAcquire("k"); // paced at 10/s: one now ...
  assert.equal(typeof second, "function");
  assert.equal(pacer.tryAcquire("k"), undefined); // ... the next one 50 ms later
  const waiting = pacer.acquire("k");
  clock.advance(100);
  // A waiter is first in line: tryAcquire() does not overtake it.
  assert.equal(pacer.tryAcquire("k"), undefined);
  (await waiting)();
  second!();
  const aborted = new AbortController();
  aborted.abort();
  clock.advance(1000);
  assert.equal(pacer.tryAcquire("k", aborted.signal), undefined);
  assert.equal(typeof pacer.tryAcquire("k"), "function");
});

Deno.test("ServerPacer.acquire() spreads requests at the policy's q/w", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe("k", ietf(100, 1, 10, 1)); // 10/s, plenty remaining
  (await pacer.acquire("k"))();
  assert.equal(pacer.delay("k"), 100); // due at +100
  clock.advance(100);
  (await pacer.acquire("k"))();
  assert.equal(pacer.delay("k"), 100); // next due at +200
  clock.advance(1000);
  (await pacer.acquire("k"))(); // idle time does not build up a burst
  assert.equal(pacer.delay("k"), 100);
});

Deno.test("ServerPacer.acquire() paces at the strictest short policy and only counts long ones", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe(
    "k",
    answer({ "RateLimit-Policy": '"burst";q=100;w=60, "daily";q=1000;w=86400, "s";q=20;w=1' }),
  );
  (await pacer.acquire("k"))();
  assert.equal(pacer.delay("k"), 600); // 100 per 60 s = one per 600 ms; the daily one is not paced
  const strict = new ServerPacer({ clock, maxPacedWindowMs: 86_400_000 });
  strict.observe("k", answer({ "RateLimit-Policy": '"daily";q=1000;w=86400' }));
  (await strict.acquire("k"))();
  assert.equal(strict.delay("k"), 86_400);
});

Deno.test("ServerPacer.acquire() lets exactly the remaining quota through when 16 callers race", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const first = await pacer.acquire("k");
  pacer.observe("k", answer({ "RateLimit": '"default";r=5;t=2' }));
  first();
  const calls = Array.from({ length: 16 }, () => track(pacer.acquire("k")));
  await settle();
  assert.equal(calls.filter((c) => c.done).length, 5);
  assert.equal(pacer.delay("k"), 2000);
  // One of them answers with the server's new count; the four others are still in flight.
  pacer.observe("k", answer({ "RateLimit": '"default";r=6;t=2' }));
  (calls[0].value as () => void)();
  await settle();
  assert.equal(calls.filter((c) => c.done).length, 7); // 6 - 4 others in flight = 2 more
  pacer.reset("k"); // frees the rest
  await settle();
  assert.equal(calls.filter((c) => c.done).length, 16);
  for (const c of calls) (c.value as () => void)();
});

Deno.test("ServerPacer.observe() counts requests in flight against the remaining quota", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const releases = await Promise.all(Array.from({ length: 4 }, () => pacer.acquire("k")));
  pacer.observe("k", answer({ "RateLimit": '"default";r=3;t=10' }));
  assert.equal(pacer.delay("k"), 10_000); // 3 left, 3 others in flight
  releases[0]();
  pacer.observe("k", answer({ "RateLimit": '"default";r=4;t=10' }));
  assert.equal(pacer.delay("k"), 0); // 4 left, 2 others in flight
  for (const release of releases) release();
});

Deno.test("ServerPacer holds a key after a 429 with Retry-After, then probes with one request", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const release = await pacer.acquire("k");
  pacer.observe("k", answer({ "Retry-After": "3" }, 429));
  release();
  assert.equal(pacer.delay("k"), 3000);
  clock.advance(3000);
  const probe = await pacer.acquire("k");
  assert.equal(pacer.delay("k"), Infinity); // waits for the probe's answer
  const next = track(pacer.acquire("k"));
  await settle();
  assert.equal(next.done, false);
  pacer.observe("k", new Response("ok"));
  probe();
  await settle();
  assert.equal(next.done, true);
  (next.value as () => void)();
  assert.equal(pacer.delay("other"), 0); // keys are independent
});

Deno.test("ServerPacer holds after a 429 that says nothing for fallbackWindowMs", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, fallbackWindowMs: 250 });
  pacer.observe("k", new Response(null, { status: 429 }));
  assert.equal(pacer.delay("k"), 250);
  pacer.observe("k", answer({ "Retry-After": "2" }, 503));
  assert.equal(pacer.delay("k"), 2000);
  const plain = new ServerPacer({ clock });
  plain.observe("k", new Response(null, { status: 503 }));
  assert.equal(plain.delay("k"), 0);
});

Deno.test("ServerPacer bounds absurd holds by maxHoldMs", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, maxHoldMs: 5000 });
  pacer.observe("a", answer({ "Retry-After": "999999999" }, 429));
  assert.equal(pacer.delay("a"), 5000);
  pacer.observe("b", answer({ "RateLimit": '"d";r=0;t=86400' }));
  assert.equal(pacer.delay("b"), 5000);
  pacer.observe("c", answer({ "Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT" }, 429));
  assert.equal(pacer.delay("c"), 5000);
});

Deno.test("ServerPacer caps a Retry-After too long to be a number at maxHoldMs", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, maxHoldMs: 5000 });
  pacer.observe("k", answer({ "Retry-After": "9".repeat(40) }, 429));
  assert.equal(pacer.delay("k"), 5000);
});

Deno.test("ServerPacer lets Retry-After take precedence over t on any status", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe(
    "k",
    answer({
      "RateLimit-Policy": '"p";q=10;w=60',
      "RateLimit": '"p";r=0;t=30',
      "Retry-After": "2",
    }),
  );
  assert.equal(pacer.delay("k"), 2000);
});

Deno.test("ServerPacer ignores the fields of a cached answer (Age > 0)", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe("k", answer({ "RateLimit": '"p";r=0;t=30', "Age": "12" }));
  assert.equal(pacer.delay("k"), 0);
  pacer.observe("k", answer({ "RateLimit": '"p";r=0;t=30', "Age": "0" }));
  assert.equal(pacer.delay("k"), 30_000);
});

Deno.test("ServerPacer holds a spent quota until its window ends, then spends the quota again", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe("k", answer({ "RateLimit-Policy": '"w";q=3;w=2', "RateLimit": '"w";r=0;t=2' }));
  assert.equal(pacer.delay("k"), 2000);
  clock.advance(2000);
  // The window's quota is released, spread by the pace (3 per 2 s), not probed one at a time.
  const first = pacer.tryAcquire("k");
  assert.notEqual(first, undefined);
  const wait = pacer.delay("k");
  assert.ok(Math.abs(wait - 2000 / 3) < 0.01, String(wait));
  clock.advance(wait);
  const second = pacer.tryAcquire("k");
  assert.notEqual(second, undefined); // the first is not answered yet: no probe
  first!();
  second!();
  // Without a window, q says nothing about bursts: one request probes.
  pacer.observe(
    "x",
    answer({ "X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2" }),
  );
  clock.advance(2000);
  const probe = pacer.tryAcquire("x");
  assert.notEqual(probe, undefined);
  assert.equal(pacer.delay("x"), Infinity);
  probe!();
});

Deno.test("ServerPacer counts an answer once when answers land together", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const [a, b, c] = await Promise.all([pacer.acquire("k"), pacer.acquire("k"), pacer.acquire("k")]);
  // The server answered a (r=9) and b (r=8); both answers are read before either release.
  pacer.observe("k", answer({ "RateLimit": '"d";r=9;t=10' }));
  pacer.observe("k", answer({ "RateLimit": '"d";r=8;t=10' }));
  // 8 left, minus c (not answered yet): 7 may start, not 6.
  const more = Array.from({ length: 8 }, () => pacer.tryAcquire("k"));
  assert.equal(more.filter((r) => r !== undefined).length, 7);
  for (const release of [a, b, c, ...more]) release?.();
});

Deno.test("ServerPacer holds on an epoch X-RateLimit-Reset", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe(
    "k",
    answer({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(T0 / 1000 + 30) }),
  );
  assert.equal(pacer.delay("k"), 30_000);
});

Deno.test("ServerPacer ignores content-bytes quotas", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe(
    "k",
    answer({
      "RateLimit-Policy": '"bytes";q=1000;w=1;qu="content-bytes"',
      "RateLimit": '"bytes";r=0;t=1',
    }),
  );
  (await pacer.acquire("k"))();
  assert.equal(pacer.delay("k"), 0);
});

Deno.test("ServerPacer.acquire() rejects with the signal's reason when aborted", async () => {
  const pacer = new ServerPacer();
  pacer.observe("k", answer({ "Retry-After": "60" }, 429));
  const controller = new AbortController();
  const waiting = pacer.acquire("k", controller.signal);
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(waiting, (e) => e === reason);
  await assert.rejects(pacer.acquire("k", controller.signal), (e) => e === reason);
  await assert.rejects(
    pacer.acquire("k", AbortSignal.abort()),
    (e) => e instanceof DOMException && e.name === "AbortError",
  );
});

Deno.test("ServerPacer.acquire() waits in real time and serves waiters in order", async () => {
  const pacer = new ServerPacer({ probeFirst: false });
  pacer.observe("k", ietf(100, 1, 20, 1)); // one every 50 ms
  const start = performance.now();
  const order: number[] = [];
  await Promise.all([0, 1, 2, 3].map(async (i) => {
    const release = await pacer.acquire("k");
    order.push(i);
    release();
  }));
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.ok(performance.now() - start >= 100, "three gaps of 50 ms (25 ms slack each)");
});

Deno.test("ServerPacer release functions count once", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const a = await pacer.acquire("k");
  const b = await pacer.acquire("k");
  a();
  a();
  pacer.observe("k", answer({ "RateLimit": '"d";r=1;t=5' }));
  assert.equal(pacer.delay("k"), 0); // b is still in flight once, not zero times: 1 - 0 others
  b();
});

Deno.test("ServerPacer probeFirst lets the first request of a key go alone", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, probeFirst: true });
  const first = await pacer.acquire("k");
  const second = track(pacer.acquire("k"));
  await settle();
  assert.equal(second.done, false);
  pacer.observe("k", new Response("ok"));
  first();
  await new Promise((resolve) => setTimeout(resolve, 10)); // let in on the next turn
  assert.equal(second.done, true);
  (second.value as () => void)();
  (await pacer.acquire("k"))(); // answered without headers: no more waiting
});

Deno.test("ServerPacer probeFirst starts a cold key slowly: one more request in flight per answer", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, probeFirst: true });
  const first = pacer.tryAcquire("k")!;
  assert.equal(pacer.tryAcquire("k"), undefined);
  pacer.observe("k", new Response("ok")); // no headers: the key stays unknown
  const second = pacer.tryAcquire("k")!;
  assert.equal(pacer.tryAcquire("k"), undefined); // two in flight after one answer
  pacer.observe("k", new Response("ok"));
  first();
  second();
  const releases = [pacer.tryAcquire("k"), pacer.tryAcquire("k"), pacer.tryAcquire("k")];
  assert.equal(releases.filter((r) => r !== undefined).length, 3); // three after two answers
  for (const release of releases) release?.();
});

Deno.test("ServerPacer probeFirst lets no waiter in on a 200 that landed together with a 429", async () => {
  // Answers that arrive together are observed one by one. Letting the slow start's waiters in
  // on the 200 sent them after the 429 that came with it: each drew another 429.
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, probeFirst: true });
  const first = pacer.tryAcquire("k")!;
  pacer.observe("k", new Response("ok"));
  first();
  const [ok, rejected] = [pacer.tryAcquire("k")!, pacer.tryAcquire("k")!];
  const stop = new AbortController();
  const waiter = track(pacer.acquire("k", stop.signal));
  pacer.observe("k", new Response("ok"));
  pacer.observe("k", new Response(null, { status: 429 }));
  ok();
  rejected();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(waiter.done, false); // held by the 429
  assert.ok(pacer.delay("k") > 0);
  stop.abort();
  await settle();
  assert.equal(waiter.done, true);
  assert.ok(waiter.error instanceof DOMException);
});

Deno.test("ServerPacer probeFirst lets the waiters in on the next turn after a 200 alone", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, probeFirst: true });
  const first = pacer.tryAcquire("k")!;
  const waiters = [track(pacer.acquire("k")), track(pacer.acquire("k"))];
  pacer.observe("k", new Response("ok"));
  first();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(waiters.map((w) => w.done), [true, true]); // two in flight after one answer
  for (const w of waiters) (w.value as () => void)();
});

Deno.test("ServerPacer probeFirst holds the others back for fallbackWindowMs at most when the first request hangs", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, probeFirst: true, fallbackWindowMs: 500 });
  const hung = pacer.tryAcquire("k")!; // never answered
  assert.equal(pacer.tryAcquire("k"), undefined);
  assert.equal(pacer.delay("k"), 500);
  clock.advance(500);
  const next = pacer.tryAcquire("k");
  assert.notEqual(next, undefined);
  next!();
  hung();
});

// 20 requests to "k" over a second, each answered 200 without a word about limits.
function acceptForASecond(pacer: ServerPacer, clock: ManualClock): void {
  for (let i = 0; i < 20; i++) {
    const release = pacer.tryAcquire("k")!;
    clock.advance(50);
    pacer.observe("k", new Response("ok"));
    release();
  }
}

Deno.test("ServerPacer paces by AIMD after a bare 429 instead of letting every caller burst again", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  // The server accepted 20 requests over the last second, then rejected without a word.
  acceptForASecond(pacer, clock);
  const rejected = pacer.tryAcquire("k")!;
  pacer.observe("k", new Response(null, { status: 429 }));
  pacer.observe("k", new Response(null, { status: 429 })); // one already in flight: no second decrease
  rejected();
  // A quarter of fallbackWindowMs (it was all of it): a bucket has its next request back well
  // within it; a window still spent rejects the probe, which then holds longer.
  assert.equal(pacer.delay("k"), 250);
  clock.advance(250);
  // 200s without headers keep the pace (0.9 × 20 per second) and do not forget it.
  for (let i = 0; i < 3; i++) {
    const release = pacer.tryAcquire("k");
    assert.notEqual(release, undefined);
    pacer.observe("k", new Response("ok"));
    release!();
    const wait = pacer.delay("k");
    assert.ok(wait > 35 && wait < 56, String(wait)); // 1000 / 18, then faster
    clock.advance(wait);
  }
});

// AIMD on a key whose server rejects without a word about its limit: 20 requests accepted over
// a second, then a rejection (with `headers`), then its hold (a second for `Retry-After: 1`, a
// quarter of one for a bare 429). Returns the pacer, at the end of the hold.
function aimdAfterFirstRejection(clock: ManualClock, headers: Record<string, string>) {
  const pacer = new ServerPacer({ clock });
  acceptForASecond(pacer, clock);
  const rejected = pacer.tryAcquire("k")!;
  pacer.observe("k", answer(headers, 429));
  rejected();
  const hold = "Retry-After" in headers ? 1000 : 250;
  assert.equal(pacer.delay("k"), hold);
  clock.advance(hold);
  return pacer;
}

// Sends `n` requests at the pacer's pace, each answered 200 without headers before the next.
function paced(pacer: ServerPacer, clock: ManualClock, n: number): void {
  for (let i = 0; i < n; i++) {
    clock.advance(pacer.delay("k"));
    const release = pacer.tryAcquire("k")!;
    pacer.observe("k", new Response("ok"));
    release();
  }
}

Deno.test("ServerPacer obeys every Retry-After of a server that says nothing else, not only the first", () => {
  const clock = new ManualClock(T0);
  const pacer = aimdAfterFirstRejection(clock, { "Retry-After": "1" });
  paced(pacer, clock, 5);
  clock.advance(pacer.delay("k"));
  const rejected = pacer.tryAcquire("k")!;
  pacer.observe("k", answer({ "Retry-After": "1" }, 429));
  rejected();
  // Before: two steps of the AIMD pace (about 100 ms), against a MUST.
  assert.equal(pacer.delay("k"), 1000);
});

Deno.test("ServerPacer does not hold a bare 429 of a request sent before the last decrease for the fallback window", () => {
  const clock = new ManualClock(T0);
  const pacer = aimdAfterFirstRejection(clock, {});
  paced(pacer, clock, 5);
  clock.advance(pacer.delay("k"));
  const a = pacer.tryAcquire("k")!;
  clock.advance(pacer.delay("k"));
  const b = pacer.tryAcquire("k")!;
  pacer.observe("k", answer({}, 429)); // a: the pace drops, and a short hold
  a();
  const hold = pacer.delay("k");
  assert.ok(hold > 0 && hold < 1000, String(hold));
  pacer.observe("k", answer({}, 429)); // b left before that decrease: it belongs to it
  b();
  // Before: b's 429 came "within the calm" and held the key for the whole fallback window.
  assert.equal(pacer.delay("k"), hold);
});

Deno.test("ServerPacer climbs back no higher than the rate a server that says nothing accepted", () => {
  const clock = new ManualClock(T0);
  const pacer = aimdAfterFirstRejection(clock, {});
  // Fast climb from 19/s until a rejection; the server accepted what was sent over the last second.
  paced(pacer, clock, 40);
  clock.advance(pacer.delay("k"));
  const rejected = pacer.tryAcquire("k")!;
  pacer.observe("k", answer({}, 429));
  rejected();
  // The pace after that decrease: 0.95 × the lower of the pace and the 200s over the last second.
  paced(pacer, clock, 1);
  const after = 1000 / pacer.delay("k");
  paced(pacer, clock, 300);
  const rate = 1000 / Math.max(1e-9, pacer.delay("k"));
  // Up to 0.97 × that lower rate (its ceiling rising 0.02 % an answer). Before: about one request
  // per second more each second, without end (from 36/s to 44/s here).
  assert.ok(rate <= (after / 0.95) * 0.97 * 1.0002 ** 301, `${after} → ${rate}`);
});

Deno.test("ServerPacer holds a spent OpenAI or Anthropic request quota, not a token one", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe(
    "openai",
    answer({
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "850ms",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "6m0s",
    }),
  );
  assert.equal(pacer.delay("openai"), 850);
  pacer.observe(
    "claude",
    answer({
      "anthropic-ratelimit-requests-remaining": "0",
      "anthropic-ratelimit-requests-reset": new Date(T0 + 2000).toISOString(),
    }),
  );
  assert.equal(pacer.delay("claude"), 2000);
  pacer.observe("ms", answer({ "retry-after-ms": "250", "retry-after": "1" }, 429));
  assert.equal(pacer.delay("ms"), 250);
});

const OPENAI_TOKENS = (remaining: number, reset = "6m0s") => ({
  "x-ratelimit-limit-requests": "500",
  "x-ratelimit-remaining-requests": "400",
  "x-ratelimit-reset-requests": "1s",
  "x-ratelimit-limit-tokens": "10000",
  "x-ratelimit-remaining-tokens": String(remaining),
  "x-ratelimit-reset-tokens": reset,
});

Deno.test("ServerPacer spends a request's cost against an OpenAI token budget until its reset", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock, maxHoldMs: 600_000 });
  pacer.observe("openai", answer(OPENAI_TOKENS(3000)));
  const a = pacer.tryAcquire("openai", { cost: 2000 });
  assert.ok(a, "2000 of 3000 tokens left");
  // 1000 left: a request of 1500 waits for the reset (6 minutes), one of 1000 goes.
  assert.equal(pacer.tryAcquire("openai", { cost: 1500 }), undefined);
  const b = pacer.tryAcquire("openai", { cost: 1000 });
  assert.ok(b);
  assert.equal(pacer.tryAcquire("openai", { cost: 1 }), undefined);
  // A request without a cost is not held by tokens; the request budget still counts it.
  pacer.tryAcquire("openai")!();
  // The first answer: the server charged 800 for the first request and counts the second's 1000
  // not yet. Its declared 2000 are refunded, the second's 1000 still reserved: 2200 left.
  pacer.observe("openai", answer(OPENAI_TOKENS(3200, "5m59s")), { cost: 2000 });
  a();
  assert.equal(pacer.tryAcquire("openai", { cost: 2300 }), undefined);
  const c = pacer.tryAcquire("openai", { cost: 2200 });
  assert.ok(c);
  b();
  c();
  // Spent: held until the reset, then the whole budget is back.
  pacer.observe("openai", answer(OPENAI_TOKENS(0, "6m0s")));
  clock.advance(359_999);
  assert.equal(pacer.tryAcquire("openai", { cost: 500 }), undefined);
  clock.advance(1);
  const release = pacer.tryAcquire("openai", { cost: 10_000 });
  assert.ok(release);
  release();
});

Deno.test("ServerPacer lets a cost above the whole token budget go when the budget is full", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe("openai", answer(OPENAI_TOKENS(9000, "1s")));
  assert.equal(pacer.tryAcquire("openai", { cost: 50_000 }), undefined);
  clock.advance(1000);
  const release = pacer.tryAcquire("openai", { cost: 50_000 });
  assert.ok(release);
  release();
});

Deno.test("ServerPacer charges a cost to Anthropic's input tokens, and a spent output budget holds it", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const reset = new Date(T0 + 30_000).toISOString().replace(/\.\d+Z$/, "Z");
  const headers = (input: number, output: number) => ({
    "anthropic-ratelimit-requests-limit": "50",
    "anthropic-ratelimit-requests-remaining": "49",
    "anthropic-ratelimit-requests-reset": reset,
    "anthropic-ratelimit-input-tokens-limit": "40000",
    "anthropic-ratelimit-input-tokens-remaining": String(input),
    "anthropic-ratelimit-input-tokens-reset": reset,
    "anthropic-ratelimit-output-tokens-limit": "8000",
    "anthropic-ratelimit-output-tokens-remaining": String(output),
    "anthropic-ratelimit-output-tokens-reset": reset,
  });
  pacer.observe("claude", answer(headers(20_000, 5000)));
  // 20 000 input tokens: two requests of 9000 go, a third waits for the reset (30 s); the
  // output budget is not charged the declared cost.
  const releases = [
    pacer.tryAcquire("claude", { cost: 9000 }),
    pacer.tryAcquire("claude", { cost: 9000 }),
  ];
  assert.ok(releases.every((r) => r !== undefined));
  assert.equal(pacer.tryAcquire("claude", { cost: 9000 }), undefined);
  assert.equal(pacer.delay("claude"), 0);
  for (const release of releases) release!();
  pacer.observe("claude", answer(headers(39_000, 0)));
  assert.equal(pacer.tryAcquire("claude", { cost: 100 }), undefined);
  clock.advance(30_000);
  const release = pacer.tryAcquire("claude", { cost: 100 });
  assert.ok(release);
  release();
});

Deno.test("ServerPacer rejects a cost that is not a finite number >= 0", async () => {
  const pacer = new ServerPacer();
  for (const cost of [-1, NaN, Infinity]) {
    await assert.rejects(pacer.acquire("api", { cost }), {
      name: "RangeError",
      message:
        `Cannot call ServerPacer.acquire() as 'cost' must be a finite number >= 0: received ${cost}`,
    });
    assert.throws(() => pacer.tryAcquire("api", { cost }), {
      name: "RangeError",
      message:
        `Cannot call ServerPacer.tryAcquire() as 'cost' must be a finite number >= 0: received ${cost}`,
    });
  }
  assert.throws(() => pacer.observe("api", new Response(), { cost: "5" as unknown as number }), {
    name: "TypeError",
    message:
      `Cannot call ServerPacer.observe() as 'cost' must be a finite number >= 0: received "5"`,
  });
});

Deno.test("ServerPacer holds a spent hourly quota that started far from whole, not paced as a bucket", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const github = (remaining: number) =>
    answer({
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-reset": String(T0 / 1000 + 3600),
    });
  // Shared with other clients: 4000 left on the first answer, then spent. Its reset is an hour:
  // not a refill rounded up to a second, so the key holds (maxHoldMs) instead of pacing.
  pacer.observe("gh", github(4000));
  pacer.observe("gh", github(0));
  assert.equal(pacer.delay("gh"), 60_000);
});

Deno.test("ServerPacer paces a spent shared window near its end gently, and holds it once it was whole", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const x = (remaining: number, reset: number) =>
    answer({
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-reset-after": String(reset),
    });
  // Looks like a bucket (3000 of 5000 on the first answer, then spent with a reset of 1 s), but
  // is paced from what the server accepted (2 answers: 8/s), not at 5000/s.
  pacer.observe("gh", x(3000, 3599));
  clock.advance(100);
  pacer.observe("gh", x(0, 1));
  const wait = pacer.delay("gh");
  assert.ok(wait > 100 && wait <= 125, String(wait));
  // The window comes back whole: not a bucket after all; a spent quota holds its reset again.
  clock.advance(1000);
  pacer.observe("gh", x(4999, 3600));
  assert.equal(pacer.delay("gh"), 0);
  pacer.observe("gh", x(0, 1));
  assert.equal(pacer.delay("gh"), 1000);
});

// A 503 is too many at once: the requests in flight are capped (one fewer than were in flight
// when the rejected request left), with or without Retry-After, and the pace is left alone (an
// AIMD pace after a 503 with a wait turned a limit of 4 at once into a few requests a second).
for (const retryAfter of ["1", "0", undefined]) {
  Deno.test(`ServerPacer caps the requests in flight on a 503 (Retry-After: ${retryAfter}), not the pace`, () => {
    const clock = new ManualClock(T0);
    const pacer = new ServerPacer({ clock });
    const releases = Array.from({ length: 6 }, () => pacer.tryAcquire("k")!);
    clock.advance(20);
    for (let i = 0; i < 4; i++) pacer.observe("k", new Response("ok"));
    const headers: Record<string, string> = retryAfter === undefined
      ? {}
      : { "Retry-After": retryAfter };
    for (let i = 0; i < 2; i++) pacer.observe("k", answer(headers, 503));
    for (const release of releases) release();
    clock.advance(1000);
    // After a hold, one request probes alone; its answer opens the cap.
    const probe = pacer.tryAcquire("k")!;
    pacer.observe("k", new Response("ok"));
    probe();
    const granted = Array.from({ length: 6 }, () => pacer.tryAcquire("k"));
    assert.equal(granted.filter((r) => r !== undefined).length, 4);
    assert.equal(pacer.delay("k"), Infinity);
    // Answered: the next requests go at once, four at a time, at no pace.
    for (const release of granted) {
      if (release === undefined) continue;
      pacer.observe("k", new Response("ok"));
      release();
    }
    assert.equal(pacer.delay("k"), 0);
    const again = Array.from({ length: 4 }, () => pacer.tryAcquire("k"));
    assert.equal(again.filter((r) => r !== undefined).length, 4);
    for (const release of again) release?.();
  });
}

Deno.test("ServerPacer keeps at most maxKeys keys", async () => {
  const pacer = new ServerPacer({ clock: new ManualClock(T0), maxKeys: 8 });
  for (let i = 0; i < 100; i++) {
    (await pacer.acquire(`k${i}`))();
    pacer.observe(`k${i}`, answer({ "RateLimit": '"d";r=5;t=5' }));
  }
  assert.equal(pacer.size, 8);
  const busy = await pacer.acquire("busy");
  for (let i = 0; i < 100; i++) pacer.observe(`x${i}`, new Response());
  assert.equal(pacer.size, 8);
  busy(); // a key dropped while busy still releases cleanly
});

Deno.test("ServerPacer.reset() forgets a key and frees its waiters", async () => {
  const pacer = new ServerPacer();
  pacer.observe("k", answer({ "Retry-After": "60" }, 429));
  const waiting = pacer.acquire("k");
  assert.equal(pacer.reset("k"), true);
  (await waiting)();
  assert.equal(pacer.reset("never"), false);
});

Deno.test("ServerPacer rejects bad options", () => {
  assert.throws(() => new ServerPacer({ maxKeys: 0 }), {
    name: "RangeError",
    message: "Cannot create ServerPacer as 'maxKeys' must be an integer >= 1: received 0",
  });
  assert.throws(() => new ServerPacer({ maxHoldMs: -1 }), {
    name: "RangeError",
    message: "Cannot create ServerPacer as 'maxHoldMs' must be a finite number > 0: received -1",
  });
  assert.throws(() => new ServerPacer({ maxHoldMs: 2 ** 31 }), {
    name: "RangeError",
    message:
      "Cannot create ServerPacer as 'maxHoldMs' must be at most 2147483647: received 2147483648",
  });
  assert.throws(() => new ServerPacer({ fallbackWindowMs: NaN }), {
    name: "RangeError",
    message:
      "Cannot create ServerPacer as 'fallbackWindowMs' must be a finite number > 0: received NaN",
  });
  assert.throws(() => new ServerPacer({ maxPacedWindowMs: "1" as unknown as number }), {
    name: "TypeError",
    message:
      "Cannot create ServerPacer as 'maxPacedWindowMs' must be a finite number > 0: received \"1\"",
  });
  assert.throws(() => new ServerPacer({ clock: {} as never }), {
    name: "TypeError",
    message: "Cannot create ServerPacer as 'clock' must have a now() method: received {}",
  });
  assert.throws(() => new ServerPacer({ probeFirst: 1 as unknown as boolean }), {
    name: "TypeError",
    message: "Cannot create ServerPacer as 'probeFirst' must be a boolean: received number",
  });
});

Deno.test("ServerPacer.acquire() starts one of 16 racing callers and paces the rest", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const first = await pacer.acquire("k");
  pacer.observe("k", ietf(2, 1, 10, 1)); // a bucket's burst of 2: one now, the last paced
  first();
  const controller = new AbortController();
  const calls = Array.from({ length: 16 }, () => track(pacer.acquire("k", controller.signal)));
  await settle();
  assert.equal(calls.filter((c) => c.done).length, 1);
  assert.equal(pacer.delay("k"), 100);
  controller.abort(new Error("enough"));
  await settle();
  assert.equal(calls.filter((c) => c.error instanceof Error).length, 15);
  (calls.find((c) => c.value)?.value as () => void)();
});

Deno.test("ServerPacer keeps holding when a stale success arrives after a 429", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const [a, b] = await Promise.all([pacer.acquire("k"), pacer.acquire("k")]);
  pacer.observe("k", answer({ "Retry-After": "5", "RateLimit": '"d";r=0;t=5' }, 429));
  a();
  pacer.observe("k", answer({ "RateLimit": '"d";r=3;t=5' }));
  b();
  assert.equal(pacer.delay("k"), 5000);
});

Deno.test("ServerPacer caps requests in flight by a concurrent-requests quota", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe("k", answer({ "RateLimit-Policy": '"conc";q=2;qu="concurrent-requests"' }));
  const a = await pacer.acquire("k");
  const b = await pacer.acquire("k");
  const c = track(pacer.acquire("k"));
  await settle();
  assert.equal(c.done, false);
  assert.equal(pacer.delay("k"), Infinity);
  a();
  await settle();
  assert.equal(c.done, true);
  b();
  (c.value as () => void)();
});

// --- a property: a consistent server is never overrun once it has answered ----------------------

type SimServer = (arrival: number) => Response;

// A fixed window of `q` requests per `windowSec`, with exact draft-11 headers. Its windows turn
// `phaseMs` after the server's whole seconds (multiples of the window); with `date`, its answers
// carry a `Date` (the arrival, in whole seconds, as HTTP-dates are).
function fixedWindow(
  q: number,
  windowSec: number,
  { phaseMs = 0, date = false }: { phaseMs?: number; date?: boolean } = {},
): SimServer {
  const windowMs = windowSec * 1000;
  let start = -Infinity, used = 0;
  return (arrival) => {
    if (arrival >= start + windowMs) {
      start = Math.floor((arrival - phaseMs) / windowMs) * windowMs + phaseMs;
      used = 0;
    }
    const t = Math.ceil((start + windowMs - arrival) / 1000);
    const fields: Record<string, string> = { "RateLimit-Policy": `"w";q=${q};w=${windowSec}` };
    if (date) fields["Date"] = new Date(arrival).toUTCString();
    if (used < q) {
      used++;
      return answer({ ...fields, "RateLimit": `"w";r=${q - used};t=${t}` });
    }
    return answer({ ...fields, "RateLimit": `"w";r=0;t=${t}`, "Retry-After": String(t) }, 429);
  };
}

// A sliding log of `q` requests per `windowSec`, with draft-11 headers: `t` until the oldest
// request counted leaves the window, rounded up.
function slidingLog(q: number, windowSec: number): SimServer {
  const windowMs = windowSec * 1000;
  const log: number[] = [];
  return (arrival) => {
    while (log.length > 0 && log[0] <= arrival - windowMs) log.shift();
    const allowed = log.length < q;
    if (allowed) log.push(arrival);
    const t = Math.ceil((log[0] + windowMs - arrival) / 1000);
    const headers = {
      "RateLimit-Policy": `"s";q=${q};w=${windowSec}`,
      "RateLimit": `"s";r=${q - log.length};t=${t}`,
    };
    return allowed ? answer(headers) : answer({ ...headers, "Retry-After": String(t) }, 429);
  };
}

// GCRA, answering like the loopback server of the acceptance test, in either header family.
// Resets are rounded up, as a consistent server does: a reset rounded down to the millisecond
// sends a probe a fraction of a millisecond too early when the round trip is 0.
function gcraServer(rate: number, burst: number, style: Style): SimServer {
  const clock = new ManualClock(T0);
  const limiter = new FluxLimiter({ rate, burst, clock });
  return (arrival) => {
    clock.set(arrival);
    const d = limiter.check("c");
    const headers: Record<string, string> = style === "ietf"
      ? {
        "RateLimit-Policy": `"g";q=${rate};w=1`,
        "RateLimit": `"g";r=${d.remaining};t=${Math.ceil(d.resetAfterMs / 1000)}`,
      }
      : style === "x"
      ? {
        "X-RateLimit-Limit": String(burst),
        "X-RateLimit-Remaining": String(d.remaining),
        "X-RateLimit-Reset-After": (Math.ceil(d.resetAfterMs) / 1000).toFixed(3),
      }
      : {
        // GitHub's form: the reset as epoch seconds (rounded up), read against the Date.
        "Date": new Date(arrival).toUTCString(),
        "X-RateLimit-Limit": String(burst),
        "X-RateLimit-Remaining": String(d.remaining),
        "X-RateLimit-Reset": String(Math.ceil((arrival + d.resetAfterMs) / 1000)),
      };
    if (d.allowed) return answer(headers);
    return answer({ ...headers, "Retry-After": String(Math.ceil(d.retryAfterMs / 1000)) }, 429);
  };
}

// Sends `total` requests from `callers` callers as fast as the pacer lets them go, each answered
// `rtt` ms after it left (the server decides halfway), in order; time jumps from event to event.
// Returns when each left, its answer's status, and whether any answer had come back by then.
async function sendTimes(
  server: SimServer,
  rtt: number,
  total: number,
  callers: number,
  start: number,
  probeFirst = false,
  lost: (at: number) => boolean = () => false,
): Promise<{ at: number; status: number; informed: boolean }[]> {
  const clock = new ManualClock(start);
  const pacer = new ServerPacer({ clock, probeFirst });
  const pending: { at: number; response: Response; release: () => void; lost: boolean }[] = [];
  const sent: { at: number; status: number; informed: boolean }[] = [];
  let answered = false;
  for (let step = 0; sent.length < total || pending.length > 0; step++) {
    assert.ok(step < 100_000, "the simulation makes progress");
    while (pending.length > 0 && pending[0].at <= clock.now()) {
      const p = pending.shift()!;
      // A lost answer (a network error): released without being observed.
      if (!p.lost) pacer.observe("k", p.response);
      p.release();
      answered ||= !p.lost;
    }
    while (sent.length < total && pending.length < callers && pacer.delay("k") === 0) {
      const release = await pacer.acquire("k");
      const response = server(clock.now() + rtt / 2);
      sent.push({ at: clock.now(), status: response.status, informed: answered });
      pending.push({ at: clock.now() + rtt, response, release, lost: lost(clock.now()) });
    }
    if (sent.length === total && pending.length === 0) break;
    const wait = sent.length < total && pending.length < callers ? pacer.delay("k") : Infinity;
    // 1 µs past what the pacer asked for: times near T0 (1.7e12 ms) carry 2.4e-4 ms of float error.
    const next = Math.min(pending[0]?.at ?? Infinity, clock.now() + wait + 1e-3);
    assert.ok(
      next < Infinity,
      `never stuck: something is due (sent ${sent.length}, in flight ${pending.length}, delay ${
        pacer.delay("k")
      })`,
    );
    clock.set(Math.max(next, clock.now()));
  }
  return sent;
}

// Up to 16 requests in flight from T0. Returns the 429s drawn by requests sent after the first
// answer.
async function simulate(server: SimServer, rtt: number, total: number): Promise<number> {
  const sent = await sendTimes(server, rtt, total, 16, T0);
  return sent.filter((s) => s.informed && s.status === 429).length;
}

Deno.test("ServerPacer sends each burst of a fixed window a window after the last, without drift", async () => {
  // 10 per second, boundaries on whole seconds, the first request 300 ms into a window; four
  // callers, so the first window goes in rounds (1, 4, 4, 1 from the slow start). Window 1's
  // first request, sent when the first answer was a window old, finds it whole while a request
  // of the last round, sent less than a window before, is not counted: a fixed window.
  const sent = await sendTimes(fixedWindow(10, 1), 20, 80, 4, T0 + 300, true);
  assert.deepEqual(sent.filter((s) => s.status !== 200), []);
  // When each window's first request left, after the window's start.
  const lags: number[] = [];
  for (const { at } of sent) {
    const window = Math.floor((at - T0) / 1000);
    lags[window] ??= at - T0 - window * 1000;
  }
  assert.equal(lags.length, 8);
  // Counted by its own requests, each window's first request went a round trip and a margin
  // later than the last one's (25 ms more each window); now every window keeps window 2's phase.
  for (const lag of lags.slice(3)) assert.ok(Math.abs(lag - lags[2]) <= 1, `lags ${lags}`);
});

// When each window's first request left, after the window's start (windows of a second that
// turn `phaseMs` after the whole seconds).
function windowLags(sent: { at: number }[], phaseMs = 0): number[] {
  const lags: number[] = [];
  for (const { at } of sent) {
    const window = Math.floor((at - T0 - phaseMs) / 1000);
    lags[window] ??= at - T0 - phaseMs - window * 1000;
  }
  return lags;
}

Deno.test("ServerPacer tries whether a fixed window turns on the server's seconds, and starts each burst there", async () => {
  // As above, with a Date on every answer. Bursts went 347 ms into each window: once the window
  // is found fixed, the first request of the next one goes alone just after the server's next
  // whole second, finds it renewed, and the bursts after it go a round trip into each window.
  // With 9 a window the rounds are 1, 4 and 4: the last round left one round trip after the first
  // answer, as the next window's first request is answered, and proved nothing until the last
  // request of a window was held back a little (PROOF_MARGIN_MS).
  for (const q of [10, 9]) {
    const sent = await sendTimes(fixedWindow(q, 1, { date: true }), 20, 8 * q, 4, T0 + 300, true);
    assert.deepEqual(sent.filter((s) => s.status !== 200), []);
    const lags = windowLags(sent);
    assert.equal(lags.length, 8);
    for (const lag of lags.slice(3)) assert.ok(lag <= 25, `q=${q}: lags ${lags}`);
  }
});

Deno.test("ServerPacer goes on when the request trying the server's seconds ends unanswered", async () => {
  // The try leaves just after a whole second (the only request that does, after the first
  // windows); its answer is lost. The key must not wait for it for ever.
  const lost = (at: number) => at - T0 > 1500 && (at - T0) % 1000 < 5;
  const sent = await sendTimes(fixedWindow(10, 1, { date: true }), 20, 80, 4, T0 + 300, true, lost);
  assert.equal(sent.length, 80);
  assert.equal(sent.filter((s) => s.status === 429).length, 0);
});

Deno.test("ServerPacer draws one 429 trying a fixed window that does not turn on the server's seconds", async () => {
  // The windows turn 600 ms after the whole seconds: the try, just after a whole second, meets
  // the spent window. The key keeps the windows it found, and tries no more.
  const server = fixedWindow(10, 1, { phaseMs: 600, date: true });
  const sent = await sendTimes(server, 20, 80, 4, T0 + 900, true);
  assert.equal(sent.filter((s) => s.status === 429).length, 1);
  const lags = windowLags(sent, 600);
  assert.equal(lags.length, 8);
  for (const lag of lags.slice(4)) assert.ok(Math.abs(lag - lags[3]) <= 1, `lags ${lags}`);
});

Deno.test("ServerPacer does not take a sliding log spent in rounds for a fixed window", async () => {
  // The rounds of the test above against a sliding log: each request frees its place a window
  // after it arrived, so a burst sent at a boundary guessed from the first ones is rejected.
  for (const start of [T0, T0 + 300, T0 + 990]) {
    const sent = await sendTimes(slidingLog(10, 1), 20, 80, 4, start, true);
    assert.deepEqual(sent.filter((s) => s.status !== 200), []);
  }
});

Deno.test("ServerPacer never draws a 429 from a consistent server once it has answered", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.record({
          kind: fc.constant("fixed" as const),
          q: fc.integer({ min: 1, max: 30 }),
          windowSec: fc.constantFrom(1, 2, 5),
        }),
        fc.record({
          kind: fc.constant("sliding" as const),
          q: fc.integer({ min: 2, max: 30 }),
          windowSec: fc.constantFrom(1, 2),
        }),
        fc.record({
          kind: fc.constant("gcra" as const),
          rate: fc.integer({ min: 1, max: 100 }),
          burst: fc.integer({ min: 1, max: 20 }),
          style: fc.constantFrom("ietf" as const, "x" as const, "epoch" as const),
        }),
      ),
      fc.integer({ min: 0, max: 400 }),
      async (spec, rtt) => {
        const server = spec.kind === "fixed"
          ? fixedWindow(spec.q, spec.windowSec)
          : spec.kind === "sliding"
          ? slidingLog(spec.q, spec.windowSec)
          : gcraServer(spec.rate, spec.burst, spec.style);
        assert.equal(await simulate(server, rtt, 60), 0);
      },
    ),
    { numRuns: 60 },
  );
});

// Quotas announced without a window (`X-RateLimit-*`, delta seconds): a fixed window with its
// reset rounded up or down, a sliding log whose reset is its oldest request's, rounded up, and a
// GCRA whose reset is the time until it is full, rounded up (its limit the burst).
function xQuota(
  kind: "fixed-up" | "fixed-down" | "sliding" | "gcra",
  q: number,
  windowMs: number,
): SimServer {
  let start = -Infinity, used = 0, tat = -Infinity;
  const log: number[] = [];
  const interval = windowMs / q;
  return (arrival) => {
    let allowed: boolean, remaining: number, resetMs: number;
    if (kind === "sliding") {
      while (log.length > 0 && log[0] <= arrival - windowMs) log.shift();
      allowed = log.length < q;
      if (allowed) log.push(arrival);
      remaining = q - log.length;
      resetMs = log[0] + windowMs - arrival;
    } else if (kind === "gcra") {
      const base = Math.max(tat, arrival);
      allowed = base - arrival <= windowMs - interval;
      if (allowed) tat = base + interval;
      const full = Math.max(tat, arrival) - arrival;
      remaining = Math.max(0, Math.floor((windowMs - full) / interval + 1e-9));
      resetMs = full;
    } else {
      if (arrival >= start + windowMs) {
        start = Math.floor(arrival / windowMs) * windowMs;
        used = 0;
      }
      allowed = used < q;
      if (allowed) used++;
      remaining = q - used;
      resetMs = start + windowMs - arrival;
    }
    const t = kind === "fixed-down" ? Math.floor(resetMs / 1000) : Math.ceil(resetMs / 1000);
    return xAnswer(q, remaining, t, allowed ? 200 : 429);
  };
}

Deno.test("ServerPacer never draws a 429 from a quota announced without a window", async () => {
  await fc.assert(
    fc.asyncProperty(
      // The windows whose reset holds them (a whole second or less, not rounded down below it).
      fc.constantFrom(
        ["fixed-up", 500] as const,
        ["fixed-up", 1000] as const,
        ["fixed-down", 1000] as const,
        ["sliding", 500] as const,
        ["sliding", 1000] as const,
      ),
      fc.integer({ min: 2, max: 30 }),
      fc.integer({ min: 0, max: 400 }),
      async ([kind, windowMs], q, rtt) => {
        assert.equal(await simulate(xQuota(kind, q, windowMs), rtt, 80), 0);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("ServerPacer reads an epoch X-RateLimit-Reset against the answer's Date", () => {
  const clock = new ManualClock(T0); // the client's clock is 3 s ahead of the server's
  const pacer = new ServerPacer({ clock });
  const server = T0 - 3000;
  pacer.observe(
    "k",
    answer({
      "Date": new Date(server).toUTCString(),
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(server / 1000 + 10),
    }),
  );
  assert.equal(pacer.delay("k"), 10_000);
  // A Retry-After date too.
  pacer.observe(
    "r",
    answer({
      "Date": new Date(server).toUTCString(),
      "Retry-After": new Date(server + 5000).toUTCString(),
    }, 429),
  );
  assert.equal(pacer.delay("r"), 5000);
});

Deno.test("ServerPacer never serializes requests on a reset in the past", async () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const past = String(T0 / 1000 - 5);
  const first = await pacer.acquire("k");
  pacer.observe("k", answer({ "X-RateLimit-Remaining": "50", "X-RateLimit-Reset": past }));
  first();
  const calls = Array.from({ length: 8 }, () => track(pacer.acquire("k")));
  await settle();
  assert.equal(calls.filter((c) => c.done).length, 8);
  pacer.observe("k", answer({ "X-RateLimit-Remaining": "49", "X-RateLimit-Reset": past }));
  assert.equal(pacer.delay("k"), 0);
  for (const c of calls) (c.value as () => void)();
});

Deno.test("ServerPacer counts the remaining quota of an answer whose reset is 0", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  pacer.observe("k", answer({ "RateLimit-Remaining": "2", "RateLimit-Reset": "0" }));
  const granted = Array.from({ length: 3 }, () => pacer.tryAcquire("k"));
  assert.equal(granted.filter((r) => r !== undefined).length, 2);
  for (const release of granted) release?.();
});

Deno.test("ServerPacer.observe() takes the answer's route from its options, not only from response.url", () => {
  const clock = new ManualClock(1_000_000);
  const pacer = new ServerPacer({ clock });
  // GitHub's headers, answers built in code (their url is ""): the route says which quota is
  // whose, so the spent search quota holds searches only.
  const answer = (resource: string, remaining: number) =>
    new Response(null, {
      headers: {
        "x-ratelimit-limit": resource === "search" ? "30" : "5000",
        "x-ratelimit-remaining": String(remaining),
        "x-ratelimit-reset": String(Math.floor(clock.now() / 1000) + 30),
        "x-ratelimit-resource": resource,
      },
    });
  for (
    const [route, resource, remaining] of [["/repos/o/r", "core", 4990], [
      "/search/issues",
      "search",
      0,
    ]] as const
  ) {
    const release = pacer.tryAcquire("k", { route });
    assert.ok(release, `${route} starts`);
    pacer.observe("k", answer(resource, remaining), { route });
    release();
  }
  const core = pacer.tryAcquire("k", { route: "/repos/o/r" });
  assert.ok(core, "a core request is not held by the spent search quota");
  core();
  assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined, "a search is held");
  assert.throws(
    () => pacer.observe("k", answer("core", 1), { route: 42 as unknown as string }),
    { name: "TypeError", message: /'route' must be a string: received 42/ },
  );
});

// --- windows that come back whole -----------------------------------------------------------------

const windowAnswer = (r: number, status = 200, t = 1): Response =>
  answer({ "RateLimit-Policy": '"w";q=4;w=1', "RateLimit": `"w";r=${r};t=${t}` }, status);

Deno.test("ServerPacer spends a window found whole at once, then counts its own requests", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const first = pacer.tryAcquire("k")!;
  clock.advance(10);
  pacer.observe("k", windowAnswer(3)); // whole but for itself: a window, not a bucket's burst
  first();
  // The rest of the window at once, not one every 250 ms; its last request a little later (a
  // round trip, unknown here, and 10 ms after the first answer: see PROOF_MARGIN_MS).
  const rest = [pacer.tryAcquire("k"), pacer.tryAcquire("k")];
  assert.equal(pacer.tryAcquire("k"), undefined);
  assert.equal(pacer.delay("k"), 10);
  clock.advance(10);
  rest.push(pacer.tryAcquire("k"));
  assert.ok(rest.every((release) => release !== undefined));
  assert.equal(pacer.tryAcquire("k"), undefined);
  clock.advance(10);
  for (const [i, release] of rest.entries()) {
    pacer.observe("k", windowAnswer(2 - i));
    release!();
  }
  // Spent at +30, reset announced as 1 s (rounded up): the first request, answered at +10, no
  // longer counts from +10 + 1 s + 5 ms (a fixed window or a sliding log counted it by then).
  assert.equal(pacer.delay("k"), 10 + 1005 - 30);
  clock.advance(985);
  const next = pacer.tryAcquire("k");
  assert.ok(next);
  // The other three count until +1035, but the reset the server announced comes first: at +1030
  // one request finds out what is left.
  assert.equal(pacer.tryAcquire("k"), undefined);
  assert.equal(pacer.delay("k"), 15);
  next();
});

Deno.test("ServerPacer paces a window again once another client spends it too, or it rejects", () => {
  for (
    const [label, second] of [["shared", windowAnswer(0)], [
      "rejected",
      windowAnswer(0, 429),
    ]] as const
  ) {
    const clock = new ManualClock(T0);
    const pacer = new ServerPacer({ clock });
    const first = pacer.tryAcquire("k")!;
    pacer.observe("k", windowAnswer(3));
    first();
    const a = pacer.tryAcquire("k")!;
    const b = pacer.tryAcquire("k")!;
    // 0 left where the client's own two requests explain 2: somebody else spends it.
    pacer.observe("k", second);
    a();
    clock.advance(2000);
    pacer.observe("k", windowAnswer(3));
    b();
    // Back to the pace of q / w: one now, the next 250 ms later.
    const c = pacer.tryAcquire("k");
    assert.ok(c, label);
    assert.equal(pacer.delay("k"), 250, label);
    c();
  }
});

Deno.test("ServerPacer reads an epoch reset on the client's clock when it agrees with every Date", () => {
  // Answers that always come back half a second into the server's second (a burst at the same
  // phase every window): the smallest client − Date seen is 520 ms, which read as an offset put
  // every reset 520 ms late. The client's clock agrees with each Date, so it is used.
  const clock = new ManualClock(T0 + 520);
  const pacer = new ServerPacer({ clock });
  const epochAnswer = () =>
    answer({
      "Date": new Date(clock.now() - 20).toUTCString(),
      "X-RateLimit-Limit": "20",
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(Math.ceil(clock.now() / 1000)),
    });
  pacer.observe("k", epochAnswer());
  assert.equal(pacer.delay("k"), 480);
  // A client clock 3 s ahead does not agree: the Date bounds it, and resets come out long.
  clock.advance(3000);
  const ahead = new ServerPacer({ clock });
  ahead.observe(
    "k",
    answer({
      "Date": new Date(clock.now() - 3020).toUTCString(),
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(Math.ceil((clock.now() - 3000) / 1000)),
    }),
  );
  assert.equal(ahead.delay("k"), 1000);
});

Deno.test("ServerPacer spends a bucket's burst down to its last request before pacing", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const first = pacer.tryAcquire("k")!;
  pacer.observe("k", answer({ "RateLimit-Policy": '"b";q=20;w=1', "RateLimit": '"b";r=4;t=0' }));
  first();
  // 4 of 20 left: a GCRA's burst, which the server allows at once. Three go now; the last is
  // kept (spent, the quota would be reported as such and hold the key for its reset), and the
  // pace of 50 ms starts.
  const burst = [1, 2, 3].map(() => pacer.tryAcquire("k"));
  assert.ok(burst.every((release) => release !== undefined));
  assert.equal(pacer.tryAcquire("k"), undefined);
  assert.equal(pacer.delay("k"), 50);
  for (const release of burst) release!();
  // A rejection ends it: the next answer's burst is paced.
  const next = (clock.advance(50), pacer.tryAcquire("k"))!;
  pacer.observe("k", answer({ "RateLimit": '"b";r=0;t=1', "Retry-After": "1" }, 429));
  next();
  clock.advance(1000);
  const probe = pacer.tryAcquire("k")!;
  pacer.observe("k", answer({ "RateLimit-Policy": '"b";q=20;w=1', "RateLimit": '"b";r=4;t=0' }));
  probe();
  assert.equal(pacer.tryAcquire("k"), undefined); // paced: the probe went 0 ms ago
  assert.equal(pacer.delay("k"), 50);
});

Deno.test("ServerPacer holds a paced bucket reported spent for one refill, not a rounded reset", () => {
  // Seen against a GCRA of 20/s, burst 5, in draft-7: paced at its rate, the bucket hovers at one
  // left; now and then the refill runs ahead of the pace, an answer reports two, and the extra
  // request leaves the next paced one to find it empty: "0 left, reset in 1 s" (50 ms rounded up
  // to whole seconds). Held for that second, the batch came out at 0.91 goodput instead of 0.99.
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const b = (r: number, t = 0) =>
    answer({ "RateLimit-Policy": '"b";q=20;w=1', "RateLimit": `"b";r=${r};t=${t}` });
  const first = pacer.tryAcquire("k")!;
  pacer.observe("k", b(4));
  first();
  const burst = [1, 2, 3].map(() => pacer.tryAcquire("k")!);
  for (const [i, release] of burst.entries()) {
    pacer.observe("k", b(3 - i));
    release();
  }
  clock.advance(50);
  const paced = pacer.tryAcquire("k")!;
  pacer.observe("k", b(2)); // the refill ran ahead of the pace: one more goes now
  paced();
  const extra = pacer.tryAcquire("k")!;
  assert.ok(extra !== undefined);
  pacer.observe("k", b(1));
  extra();
  clock.advance(50);
  const next = pacer.tryAcquire("k")!;
  pacer.observe("k", b(0, 1)); // spent: the next token is one refill (50 ms) away
  next();
  assert.equal(pacer.delay("k"), 50);
  // Had the server rejected instead, the key would hold as it says, and burst no more.
  clock.advance(50);
  const rejected = pacer.tryAcquire("k")!;
  pacer.observe("k", answer({ "RateLimit": '"b";r=0;t=1', "Retry-After": "1" }, 429));
  rejected();
  assert.equal(pacer.delay("k"), 1000);
});

Deno.test("ServerPacer renews whole at its reset a quota without a window that came back whole", () => {
  // `X-RateLimit-*` with a delta reset: no window, so a spent quota is probed after its reset, one
  // request alone, a round trip per window. Once a probe has found it whole again (a fixed window
  // or a sliding log spent in one burst), the next resets renew it whole, as a window's.
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const x = (remaining: number, reset: number, status = 200) =>
    xAnswer(4, remaining, reset, status);
  const spendWindow = (first: number) => {
    for (let r = first; r >= 0; r--) {
      const release = pacer.tryAcquire("k")!;
      assert.ok(release !== undefined, `${r} left`);
      pacer.observe("k", x(r, 1));
      release();
    }
  };
  spendWindow(3);
  assert.equal(pacer.delay("k"), 1000);
  clock.advance(1000);
  const probe = pacer.tryAcquire("k")!;
  assert.equal(pacer.tryAcquire("k"), undefined); // the probe goes alone
  pacer.observe("k", x(3, 1)); // whole again
  probe();
  spendWindow(2);
  clock.advance(1000);
  // Whole again at this reset: four go at once, no probe.
  const renewed = [1, 2, 3, 4].map(() => pacer.tryAcquire("k"));
  assert.ok(renewed.every((release) => release !== undefined));
  assert.equal(pacer.tryAcquire("k"), undefined);
  // A rejection says it was not: from then on the key probes after each reset.
  pacer.observe("k", x(0, 1, 429));
  for (const release of renewed) release!();
  clock.advance(1000);
  const again = pacer.tryAcquire("k")!;
  assert.equal(pacer.tryAcquire("k"), undefined);
  pacer.observe("k", x(3, 1));
  again();
  spendWindow(2);
  clock.advance(1000);
  assert.ok(pacer.tryAcquire("k") !== undefined);
  assert.equal(pacer.tryAcquire("k"), undefined);
});

Deno.test("ServerPacer keeps probing after resets a quota whose count rose with no reset between", () => {
  // A concurrency limit announced as a plain quota with a reset "this second" (X-RateLimit-*):
  // its count goes back up as answers come back, within one reset. Renewed whole at each reset,
  // every renewal would find it spent ("0 left" for the last of them) and hold to the next
  // second: 4 requests a second (seen at 0.04-0.14 goodput where 0.45 was before). It is probed.
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const x = (remaining: number) => xAnswer(4, remaining, 1);
  const one = (remaining: number) => {
    const release = pacer.tryAcquire("k")!;
    assert.ok(release !== undefined, `${remaining} left`);
    pacer.observe("k", x(remaining));
    release();
  };
  one(3);
  one(1);
  one(3); // up by two, no reset in between: not a window that comes back whole at its reset
  one(0);
  clock.advance(1000);
  one(3); // the probe finds it whole again
  for (const r of [2, 1, 0]) one(r);
  clock.advance(1000);
  assert.ok(pacer.tryAcquire("k") !== undefined);
  assert.equal(pacer.tryAcquire("k"), undefined); // a probe, alone
});

// `X-RateLimit-*` with delta resets: the first answer of a window, one request alone, and two
// round trips (30 ms) later the answers of three more, the last reporting the quota spent.
function spendOverTwoTrips(
  pacer: ServerPacer,
  clock: ManualClock,
  reply: (remaining: number) => Response,
): void {
  const first = pacer.tryAcquire("k")!;
  pacer.observe("k", reply(3));
  first();
  clock.advance(30);
  const rest = [1, 2, 3].map(() => pacer.tryAcquire("k")!);
  for (const [i, remaining] of [2, 1, 0].entries()) {
    pacer.observe("k", reply(remaining));
    rest[i]();
  }
}

Deno.test("ServerPacer ends a spent quota without a window where its window's first answer said", () => {
  // Every answer of a one-second window says "reset in 1 s": the first one, 30 ms before the one
  // that reported it spent, bounds the window's end 30 ms earlier. Held from the last one, each
  // window took two round trips longer than it must.
  for (const reset of [1, 0]) {
    const clock = new ManualClock(T0);
    const pacer = new ServerPacer({ clock });
    spendOverTwoTrips(pacer, clock, (r) => xAnswer(4, r, reset));
    // A reset of 0 (a window's end rounded down) stands for fallbackWindowMs, from the first too.
    assert.equal(pacer.delay("k"), 970, `reset ${reset}`);
    clock.advance(970);
    const probe = pacer.tryAcquire("k")!;
    assert.ok(probe !== undefined, `reset ${reset}`);
    assert.equal(pacer.tryAcquire("k"), undefined); // not yet known to come back whole: alone
    probe();
  }
});

Deno.test("ServerPacer renews a quota without a window by what its own requests no longer count", () => {
  // Found whole at a reset, the quota is renewed without a probe; before its last answer's reset,
  // each request counts until its answer plus the span the window's first answer gave: a fixed
  // window is all back then, but a sliding log gets back one request at a time.
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const x = (remaining: number) => xAnswer(4, remaining, 1);
  spendOverTwoTrips(pacer, clock, x);
  clock.advance(970);
  const probe = pacer.tryAcquire("k")!;
  pacer.observe("k", x(3)); // whole again
  probe();
  clock.advance(30);
  const rest = [1, 2, 3].map(() => pacer.tryAcquire("k")!);
  for (const [i, remaining] of [2, 1, 0].entries()) {
    pacer.observe("k", x(remaining));
    rest[i]();
  }
  assert.equal(pacer.delay("k"), 970);
  clock.advance(970);
  const one = pacer.tryAcquire("k");
  assert.ok(one !== undefined);
  assert.equal(pacer.tryAcquire("k"), undefined); // the three answered 30 ms later still count
  assert.equal(pacer.delay("k"), 30);
  clock.advance(30);
  const three = [1, 2, 3].map(() => pacer.tryAcquire("k"));
  assert.ok(three.every((release) => release !== undefined));
  assert.equal(pacer.tryAcquire("k"), undefined);
  one!();
  for (const release of three) release!();
});

Deno.test("ServerPacer follows a sliding log's requests out when its early probe finds it spent", () => {
  // A sliding log announced without a window: at the first answer's reset only the window's first
  // request has left it, and the probe sent then takes its place: "0 left, reset in 1 s" (30 ms
  // rounded up). The key's own count says the other three leave 30 ms later, not a second.
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const x = (remaining: number) => xAnswer(4, remaining, 1);
  spendOverTwoTrips(pacer, clock, x);
  clock.advance(970);
  const probe = pacer.tryAcquire("k")!;
  pacer.observe("k", x(0));
  probe();
  assert.equal(pacer.delay("k"), 30);
  clock.advance(30);
  const second = pacer.tryAcquire("k")!;
  assert.ok(second !== undefined);
  assert.equal(pacer.tryAcquire("k"), undefined);
  pacer.observe("k", x(2));
  second();
  // Refilled in part at a time that was no reset the server gave: no sign of a bucket, whose pace
  // would let one of these two through.
  const two = [pacer.tryAcquire("k"), pacer.tryAcquire("k")];
  assert.ok(two.every((release) => release !== undefined));
  for (const release of two) release!();
});

Deno.test("ServerPacer holds a spent quota without a window to its last reset when its answers are no one window of its own", () => {
  const x = (remaining: number, reset = 1) => xAnswer(4, remaining, reset);
  const twoAnswers = (pacer: ServerPacer, clock: ManualClock, first: number) => {
    const one = pacer.tryAcquire("k")!;
    pacer.observe("k", x(first));
    one();
    clock.advance(30);
    const two = pacer.tryAcquire("k")!;
    pacer.observe("k", x(0));
    two();
  };
  // Another client spent the window too: fewer left than the key's own requests explain.
  let clock = new ManualClock(T0);
  let pacer = new ServerPacer({ clock });
  twoAnswers(pacer, clock, 3);
  assert.equal(pacer.delay("k"), 1000);
  // Another quota's answers (a route counted apart): no answer of that window. Here the first
  // answer of three in flight on /a finds its quota spent, by others.
  clock = new ManualClock(T0);
  pacer = new ServerPacer({ clock });
  const b = pacer.tryAcquire("k", { route: "/b" })!;
  pacer.observe("k", xAnswer(20, 19, 1), { route: "/b" });
  b();
  clock.advance(30);
  const onA = [1, 2, 3].map(() => pacer.tryAcquire("k", { route: "/a" })!);
  pacer.observe("k", xAnswer(4, 0, 1), { route: "/a" });
  onA[0]();
  assert.equal(pacer.delay("k"), 1000);
  onA[1]();
  onA[2]();
  // A reset that moves later as the count goes down: a bucket's time until it is full.
  clock = new ManualClock(T0);
  pacer = new ServerPacer({ clock });
  spendOverTwoTrips(pacer, clock, (r) => x(r, r === 0 ? 2 : 1));
  assert.equal(pacer.delay("k"), 2000);
});

Deno.test("ServerPacer stops trusting a client clock that agrees with Date after a rejection", () => {
  // The client's clock is 300 ms ahead of the server's: within the Date's resolution, so it
  // agrees with every Date, and a reset read on it comes out 300 ms short.
  const server = T0 + 500;
  const clock = new ManualClock(server + 300);
  const pacer = new ServerPacer({ clock });
  const epochAnswer = (serverNow: number, status = 200) =>
    answer({
      "Date": new Date(serverNow).toUTCString(),
      "X-RateLimit-Limit": "20",
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(Math.ceil(serverNow / 1000)),
      ...(status === 429 ? { "Retry-After": "1" } : {}),
    }, status);
  pacer.observe("k", epochAnswer(server));
  assert.equal(pacer.delay("k"), 200); // trusted: 300 ms early
  // Sent at the reset as the client saw it, the request is rejected: from now on the Date bounds
  // the clock, and resets come out long, never short.
  pacer.observe("k", epochAnswer(server, 429));
  clock.advance(1000);
  pacer.observe("k", epochAnswer(server + 1000));
  assert.equal(pacer.delay("k"), 1000); // the reset of T0 + 2 s, read from the Date's T0 + 1 s
});

for (
  const name of [
    "ServerPacer.acquire() leaves no timer when its signal aborts as the wait is armed",
    "ServerPacer.acquire() arms one timer when another request waits as the wait is armed",
  ]
) {
  Deno.test(name, async () => {
    await assertPassesAlone(new URL("./_first_timer_fixtures.ts", import.meta.url), name);
  });
}

// Two routes of one key, each answered with its own draft-11 policy (GitHub's `core` and
// `search`, as separate named quotas): what one route spends or is told must not hold the other.
const namedQuota = (name: string, q: number, w: number, r: number, status = 200, extra = {}) =>
  new Response(null, {
    status,
    headers: {
      "RateLimit-Policy": `"${name}";q=${q};w=${w}`,
      "RateLimit": `"${name}";r=${r};t=${w}`,
      ...extra,
    },
  });

function routeSender(pacer: ServerPacer, clock: ManualClock) {
  return (route: string, response: () => Response): boolean => {
    const release = pacer.tryAcquire("k", { route });
    if (release === undefined) return false;
    clock.advance(10);
    pacer.observe("k", response(), { route });
    release();
    return true;
  };
}

Deno.test("ServerPacer does not pace a route at the rate of a policy it does not count against", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const send = routeSender(pacer, clock);
  assert.ok(send("/repos/o/r", () => namedQuota("core", 5000, 3600, 4999)));
  // search: 30 a minute, paced at one per 2 s.
  assert.ok(send("/search/issues", () => namedQuota("search", 30, 60, 29)));
  assert.ok(send("/search/issues", () => namedQuota("search", 30, 60, 28)));
  assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined);
  // A core request does not count against search: its pace does not hold it.
  assert.ok(
    send("/repos/o/r", () => namedQuota("core", 5000, 3600, 4998)),
    "held by search's pace",
  );
  assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined);
});

Deno.test("ServerPacer holds only the route of a spent window that came back whole", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const send = routeSender(pacer, clock);
  // Whole on the key's first answer: a window spent at once.
  assert.ok(send("/repos/o/r", () => namedQuota("core", 50, 1, 49)));
  for (let r = 48; r >= 47; r--) assert.ok(send("/repos/o/r", () => namedQuota("core", 50, 1, r)));
  // Another quota's answers: paced at its own q / w (one search per 20 s) …
  assert.ok(send("/search/issues", () => namedQuota("search", 3, 60, 2)));
  for (let r = 1; r >= 0; r--) {
    assert.ok(send("/search/issues", () => namedQuota("search", 3, 60, r)));
    assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined);
    clock.advance(20_000);
  }
  // … and holds only its own route once spent.
  assert.ok(send("/repos/o/r", () => namedQuota("core", 50, 1, 49)), "held by search's window");
  assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined);
  for (let r = 48; r >= 40; r--) assert.ok(send("/repos/o/r", () => namedQuota("core", 50, 1, r)));
});

Deno.test("ServerPacer holds only the route whose named quota answered 429 with Retry-After", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const send = routeSender(pacer, clock);
  assert.ok(send("/repos/o/r", () => namedQuota("core", 5000, 3600, 4999)));
  const spent = () => namedQuota("search", 30, 3600, 0, 429, { "Retry-After": "600" });
  assert.ok(send("/search/issues", spent));
  assert.ok(send("/repos/o/r", () => namedQuota("core", 5000, 3600, 4998)), "held by search's 429");
  assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined);
  assert.equal(pacer.tryAcquire("k", { route: "/search/code" }), undefined); // its neighbour too
  clock.advance(600_000);
  assert.ok(send("/search/issues", () => namedQuota("search", 30, 3600, 29)));
});

Deno.test("ServerPacer still holds the whole key after a 429 that names no spent quota", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const send = routeSender(pacer, clock);
  assert.ok(send("/repos/o/r", () => namedQuota("core", 5000, 3600, 4999)));
  // A secondary limit: 429 with Retry-After, the quota reported not spent.
  assert.ok(
    send("/search/issues", () => namedQuota("search", 30, 3600, 12, 429, { "Retry-After": "5" })),
  );
  assert.equal(pacer.tryAcquire("k", { route: "/repos/o/r" }), undefined);
  assert.equal(pacer.delay("k"), 5000);
});
