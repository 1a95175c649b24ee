import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { REDIS_SCRIPTS, RESET_SCRIPT } from "../../src/store/redis/mod.ts";
import { serviceTest } from "./_services.ts";

await serviceTest("redis", "REDIS_SCRIPTS each load into Redis (SCRIPT LOAD)", async () => {
  const redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
  await redis.connect();
  try {
    for (const [name, script] of [...Object.entries(REDIS_SCRIPTS), ["reset", RESET_SCRIPT]]) {
      const sha = await redis.script("LOAD", script) as string;
      assert.match(sha, /^[0-9a-f]{40}$/, name);
      const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(script));
      const expected = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
        .join("");
      assert.equal(sha, expected, name);
    }
  } finally {
    await redis.quit();
  }
});
