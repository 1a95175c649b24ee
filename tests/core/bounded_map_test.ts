import assert from "node:assert/strict";
import { BoundedMap } from "../../src/core/bounded_map.ts";

function filled(maxKeys: number, options: { keep?: (value: number) => boolean } = {}) {
  const map = new BoundedMap<string, number>({ maxKeys, ...options });
  for (let i = 0; i < maxKeys; i++) map.set(`k${i}`, i);
  return map;
}

Deno.test("BoundedMap.set() evicts the least recently written key at the bound", () => {
  const map = filled(3);
  map.set("k0", 10); // rewritten: now the newest
  map.set("new", 3);
  assert.deepEqual([...map].map(([key]) => key), ["k2", "k0", "new"]);
  assert.equal(map.get("k1"), undefined);
  assert.equal(map.size, 3);
});

Deno.test("BoundedMap.use() gives a key a second chance (CLOCK)", () => {
  const map = filled(3);
  map.use("k0")!.value = 7;
  map.set("new", 3);
  assert.deepEqual([...map], [["k2", 2], ["k0", 7], ["new", 3]]);
  map.set("newer", 4); // k0 had its chance: the oldest unmarked key goes
  assert.deepEqual([...map].map(([key]) => key), ["k0", "new", "newer"]);
});

Deno.test("BoundedMap passes over kept keys and drops the oldest when the sweep finds none", () => {
  const busy = new Set([0, 1]);
  const map = filled(4, { keep: (value) => busy.has(value) });
  map.set("a", 10);
  assert.deepEqual([...map].map(([key]) => key), ["k0", "k1", "k3", "a"]);
  busy.add(3).add(10);
  map.set("b", 11); // every key is kept: the oldest goes
  assert.deepEqual([...map].map(([key]) => key), ["k1", "k3", "a", "b"]);
});

Deno.test("BoundedMap eviction looks at maxSweep keys at most, however many are kept", () => {
  // The work a new key costs is bounded: count how often eviction asks `keep`.
  let asked = 0;
  const map = new BoundedMap<number, number>({
    maxKeys: 10_000,
    keep: () => (asked++, true),
    maxSweep: 16,
  });
  for (let i = 0; i < 10_000; i++) map.set(i, i);
  for (let i = 10_000; i < 20_000; i++) map.set(i, i);
  assert.equal(asked, 10_000 * 16);
  assert.equal(map.size, 10_000);
});

Deno.test("BoundedMap iteration survives deleting the entry it just yielded", () => {
  const map = filled(5);
  for (const [key, value] of map) if (value % 2 === 0) map.delete(key);
  assert.deepEqual([...map].map(([key]) => key), ["k1", "k3"]);
  assert.equal(map.delete("k1"), true);
  assert.equal(map.delete("k1"), false);
  map.set("x", 9);
  assert.deepEqual([...map], [["k3", 3], ["x", 9]]);
});
