import assert from "node:assert/strict";
import { CycleGuard } from "../../src/paginate/_cycle_guard.ts";

/** Feeds `sequence` until a repeat is reported; returns [index, earlier] or undefined. */
function run(guard: CycleGuard, sequence: string[]): [number, number] | undefined {
  for (const [index, href] of sequence.entries()) {
    const earlier = guard.visit(href, index);
    if (earlier !== undefined) return [index, earlier];
  }
  return undefined;
}

Deno.test("CycleGuard catches a repeat within its window at once", () => {
  assert.deepEqual(run(new CycleGuard(), ["a", "b", "c", "b"]), [3, 1]);
  assert.deepEqual(run(new CycleGuard(), ["a", "a"]), [1, 0]);
  assert.equal(run(new CycleGuard(), ["a", "b", "c", "d"]), undefined);
});

Deno.test("CycleGuard catches a cycle longer than its window with Brent's detection", () => {
  // A window of 4 URLs and a cycle of 50 after a tail of 30: caught within the second lap.
  const sequence = Array.from({ length: 1000 }, (_, i) => `u${i < 30 ? i : 30 + (i - 30) % 50}`);
  const found = run(new CycleGuard(4, 1000), sequence);
  assert.ok(found !== undefined);
  const [index, earlier] = found;
  assert.equal(sequence[index], sequence[earlier]);
  assert.ok(index < 30 + 3 * 50, `caught at ${index}`);
});

Deno.test("CycleGuard bounds the URLs it remembers by count and characters", () => {
  const guard = new CycleGuard(3, 100);
  // Evicted by count: "a" is forgotten after 3 newer pages (Brent's saved URL aside).
  assert.equal(run(guard, ["x", "a", "b", "c", "d", "a"]), undefined);
  const long = new CycleGuard(100, 10);
  assert.equal(run(long, ["0", "1", "2345678901", "1"]), undefined);
});
