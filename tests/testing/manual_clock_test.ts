import assert from "node:assert/strict";
import { ManualClock } from "../../src/testing/mod.ts";

Deno.test("ManualClock starts where told and moves only when told", () => {
  const clock = new ManualClock(5);
  assert.equal(clock.now(), 5);
  assert.equal(clock.now(), 5);
  assert.equal(clock.advance(2.5), 7.5);
  clock.set(1);
  assert.equal(clock.now(), 1);
  assert.equal(new ManualClock().now(), 0);
});

Deno.test("ManualClock rejects non-finite and backward moves", () => {
  assert.throws(() => new ManualClock(NaN), /'startMs' must be a finite number: received NaN/);
  const clock = new ManualClock();
  assert.throws(() => clock.advance(-1), RangeError);
  assert.throws(() => clock.advance(Infinity), /'ms'.*Infinity/);
  assert.throws(() => clock.set(NaN), RangeError);
  assert.equal(clock.now(), 0);
});
