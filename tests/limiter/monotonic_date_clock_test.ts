import assert from "node:assert/strict";
import { monotonicDateClock } from "../../src/limiter/monotonic_date_clock.ts";

// Replaces Date.now() and performance.now() for the length of `body`: `wall` and `mono` are the
// times they return, moved by the body.
function withTime(body: (time: { wall: number; mono: number }) => void): void {
  const time = { wall: 1_700_000_000_000.4, mono: 5_000.25 };
  const dateNow = Date.now;
  const perfNow = Object.getOwnPropertyDescriptor(performance, "now");
  Date.now = () => Math.floor(time.wall);
  Object.defineProperty(performance, "now", { value: () => time.mono, configurable: true });
  try {
    body(time);
  } finally {
    Date.now = dateNow;
    if (perfNow === undefined) delete (performance as { now?: unknown }).now;
    else Object.defineProperty(performance, "now", perfNow);
  }
}

const origin = performance.timeOrigin;

Deno.test("monotonicDateClock() follows the monotonic time line within 2 ms, never ahead", () => {
  withTime((time) => {
    const clock = monotonicDateClock();
    for (let i = 0; i < 5_000; i++) {
      const value = clock.now();
      const truth = origin + time.mono;
      assert.ok(value <= truth + 1e-6, `ahead by ${value - truth} at ${i}`);
      assert.ok(value > truth - 2, `behind by ${truth - value} at ${i}`);
      time.wall += 0.37;
      time.mono += 0.37;
    }
  });
});

Deno.test("monotonicDateClock() never goes back when the wall clock steps back", () => {
  withTime((time) => {
    const clock = monotonicDateClock();
    time.wall += 0.6;
    time.mono += 0.6;
    const before = clock.now();
    time.wall -= 3_600_000; // an hour back
    time.mono += 0.5;
    const after = clock.now();
    assert.ok(after >= before, `went back by ${before - after}`);
    time.wall += 1;
    time.mono += 1;
    assert.ok(clock.now() >= after + 0.5);
    assert.ok(clock.now() <= origin + time.mono);
  });
});

Deno.test("monotonicDateClock() ignores a wall clock stepping forward", () => {
  withTime((time) => {
    const clock = monotonicDateClock();
    const before = clock.now();
    time.wall += 3_600_000; // an hour forward, while 1 ms passes
    time.mono += 1;
    const after = clock.now();
    assert.ok(after - before <= 3, `jumped by ${after - before}`);
    for (let i = 0; i < 10; i++) {
      time.wall += 1;
      time.mono += 1;
      assert.ok(clock.now() <= origin + time.mono);
    }
  });
});

Deno.test("monotonicDateClock() does not drift with a slewed wall clock", () => {
  withTime((time) => {
    const clock = monotonicDateClock();
    // The wall clock runs 500 ppm fast (NTP's fastest slew), then as much slow, for 100 s each of
    // busy reads 0.5 ms apart: without re-anchoring it would be 50 ms off.
    for (const rate of [1.0005, 0.9995]) {
      for (let i = 0; i < 200_000; i++) {
        time.wall += 0.5 * rate;
        time.mono += 0.5;
        const off = clock.now() - (origin + time.mono);
        assert.ok(off < 0.6 && off > -2.6, `off by ${off}`);
      }
    }
  });
});

Deno.test("monotonicDateClock() reads the real clocks", () => {
  const clock = monotonicDateClock();
  const a = clock.now();
  const b = clock.now();
  assert.ok(b >= a);
  assert.ok(Math.abs(a - (performance.timeOrigin + performance.now())) < 5);
});
