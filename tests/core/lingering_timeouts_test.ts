import { assertPassesAlone } from "../_first_timer.ts";

Deno.test("startTimeout() arms one timer when another call starts as it arms", async () => {
  await assertPassesAlone(
    new URL("./_first_timer_fixtures.ts", import.meta.url),
    "startTimeout() arms one timer when another call starts as it arms",
  );
});
