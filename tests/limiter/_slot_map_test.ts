import assert from "node:assert/strict";
import fc from "fast-check";
import { SlotMap } from "../../src/limiter/_slot_map.ts";

Deno.test("SlotMap keeps at most maxKeys keys, each in its own slot (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(
        fc.record({
          op: fc.constantFrom("add", "use", "delete"),
          key: fc.integer({ min: 0, max: 20 }),
        }),
        { maxLength: 200 },
      ),
      (maxKeys, ops) => {
        let capacity = 0;
        const map = new SlotMap<number>(maxKeys, (c) => (capacity = c));
        for (const { op, key } of ops) {
          if (op === "add" && map.get(key) === undefined) map.add(key);
          else if (op === "use") map.use(key);
          else if (op === "delete") map.delete(key);
          assert.ok(map.size <= maxKeys);
          assert.ok(map.extent <= capacity && capacity <= Math.max(64, maxKeys));
          // Every key's slot holds that key, and no two keys share a slot.
          const seen = new Set<number>();
          for (const [k, slot] of map.slots) {
            assert.equal(map.keys[slot], k);
            assert.ok(!seen.has(slot));
            seen.add(slot);
          }
          let held = 0;
          for (let slot = 0; slot < map.extent; slot++) if (map.keys[slot] !== undefined) held++;
          assert.equal(held, map.size);
        }
      },
    ),
  );
});

Deno.test("SlotMap evicts a key not used since the hand last passed (CLOCK)", () => {
  const map = new SlotMap<string>(3, () => {});
  map.add("a");
  map.add("b");
  map.add("c");
  map.use("a");
  map.add("d"); // "a" gets a second chance, "b" goes
  assert.deepEqual([...map.slots.keys()].sort(), ["a", "c", "d"]);
  map.add("e"); // the hand is past "b"'s slot: "c" goes
  assert.deepEqual([...map.slots.keys()].sort(), ["a", "d", "e"]);
});

Deno.test("SlotMap reuses a deleted key's slot before evicting", () => {
  const map = new SlotMap<string>(2, () => {});
  map.add("a");
  const b = map.add("b");
  map.delete("b");
  assert.equal(map.add("c"), b);
  assert.deepEqual([...map.slots.keys()].sort(), ["a", "c"]);
});
