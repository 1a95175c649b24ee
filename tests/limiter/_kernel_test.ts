// A built-in algorithm decides in place (its kernel) inside FluxLimiter; a copy of the same
// algorithm has no kernel and takes the generic path through `decide`. Both must give the same
// decisions, number for number, whatever the sequence: several keys, peeks, resets, cleanups,
// eviction, costs of 0, time moving by fractions and stepping back.
import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import type { Algorithm } from "../../src/limiter/mod.ts";
import {
  fixedWindow,
  gcra,
  leakyBucket,
  multiLimit,
  slidingWindow,
  tokenBucket,
} from "../../src/limiter/mod.ts";
import { kernelOf } from "../../src/limiter/_kernel.ts";
import { ManualClock } from "../../src/testing/mod.ts";

const START = Date.UTC(2026, 0, 1);

const makers: [string, (rate: number, burst: number) => Algorithm<unknown>][] = [
  ["gcra", (rate, burst) => gcra({ rate, burst }) as Algorithm<unknown>],
  ["tokenBucket", (rate, burst) => tokenBucket({ rate, burst }) as Algorithm<unknown>],
  ["leakyBucket", (rate, burst) => leakyBucket({ rate, burst }) as Algorithm<unknown>],
  [
    "fixedWindow",
    (rate, burst) =>
      fixedWindow({ limit: burst, windowMs: 1000 * burst / rate }) as Algorithm<unknown>,
  ],
  [
    "slidingWindow",
    (rate, burst) =>
      slidingWindow({ limit: burst, windowMs: 1000 * burst / rate }) as Algorithm<unknown>,
  ],
  [
    "slidingWindow, 40 per 300 ms",
    (rate) => slidingWindow({ limit: 40, windowMs: 300 + rate }) as Algorithm<unknown>,
  ],
  // Two GCRA limits, the common "per second and per day": the kernel for two parts.
  ["multiLimit of two gcra", (rate, burst) =>
    multiLimit([
      { rate, burst: burst + 2 },
      { rate: rate * 3, period: 700, burst }, // either can be the stricter one
    ])],
  [
    "multiLimit of gcra and tokenBucket",
    (rate, burst) =>
      multiLimit([
        { rate, burst },
        tokenBucket({ rate: rate / 3, period: 1000, burst: burst + 2 }),
      ]),
  ],
  ["multiLimit of gcra, fixedWindow and leakyBucket", (rate, burst) =>
    multiLimit([
      gcra({ rate, burst: burst + 1 }),
      fixedWindow({ limit: burst, windowMs: 700 }),
      leakyBucket({ rate: rate * 2, burst }),
    ])],
];

const op = fc.oneof(
  fc.record({ forward: fc.double({ min: 0, max: 400, noNaN: true }) }),
  fc.record({ back: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ back: fc.double({ min: 0, max: 200, noNaN: true }) }),
  fc.record({ check: fc.integer({ min: 0, max: 4 }), cost: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ check: fc.integer({ min: 0, max: 1 }), cost: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ check: fc.integer({ min: 0, max: 1 }), cost: fc.constantFrom(0.1, 0.25, 1.7) }),
  fc.record({ peek: fc.integer({ min: 0, max: 4 }), cost: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ reset: fc.integer({ min: 0, max: 4 }) }),
  fc.constant({ cleanup: true }),
);

Deno.test("FluxLimiter decides in place exactly as Algorithm.decide does (property)", () => {
  for (const [name, make] of makers) {
    assert.ok(kernelOf(make(10, 3)) !== undefined, `${name} has a kernel`);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(op, { maxLength: 150 }),
        (rate, burst, maxKeys, ops) => {
          const clock = new ManualClock(START);
          const algorithm = make(rate, burst);
          const copy = { ...algorithm }; // no kernel: the generic path
          assert.equal(kernelOf(copy), undefined);
          const inPlace = new FluxLimiter<number>({ algorithm, clock, maxKeys });
          const generic = new FluxLimiter<number>({ algorithm: copy, clock, maxKeys });
          for (const o of ops) {
            if ("forward" in o) clock.advance(o.forward);
            else if ("back" in o) clock.set(clock.now() - o.back);
            else if ("reset" in o) assert.equal(inPlace.reset(o.reset), generic.reset(o.reset));
            else if ("cleanup" in o) assert.equal(inPlace.cleanup(), generic.cleanup());
            else {
              const cost = Math.min(o.cost, algorithm.limit);
              const key = "check" in o ? o.check : o.peek;
              const method = "check" in o ? "check" : "peek";
              assert.deepEqual(
                inPlace[method](key, cost),
                generic[method](key, cost),
                `${name} ${method}(${key}, ${cost}) at ${clock.now() - START}`,
              );
            }
            assert.equal(inPlace.size, generic.size, `${name} size`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  }
});

Deno.test("FluxLimiter takes the generic path for an algorithm without a kernel", () => {
  const algorithm = multiLimit([{ rate: 10 }, slidingWindow({ limit: 2, windowMs: 100 })]);
  assert.equal(kernelOf(algorithm), undefined);
  const limiter = new FluxLimiter({ algorithm, clock: new ManualClock() });
  assert.equal(limiter.check("k").allowed, true);
  assert.equal(limiter.check("k").allowed, false);
});

Deno.test("FluxLimiter with slidingWindow forgets expired entries as decide does, after a step back", () => {
  const clock = new ManualClock(START);
  const algorithm = slidingWindow({ limit: 2, windowMs: 100 });
  const inPlace = new FluxLimiter({ algorithm, clock });
  const generic = new FluxLimiter({ algorithm: { ...algorithm }, clock });
  const both = () => assert.deepEqual(inPlace.check("k"), generic.check("k"));
  both(); // t = 0
  clock.advance(150);
  both(); // t = 150: the entry at 0 has expired and is dropped
  clock.set(START + 60); // back: the entry at 0 would count again if it were still there
  both();
  both();
});
