import assert from "node:assert/strict";
import { redact, scrubError } from "../../src/core/url_redaction.ts";

Deno.test("redact() drops user info and masks credential query values", () => {
  assert.equal(redact("https://api.example/x?page=2"), "https://api.example/x?page=2");
  assert.equal(redact("https://u:p@api.example/x"), "https://api.example/x");
  assert.equal(
    redact("https://api.example/x?page=2&access_token=abc&API_KEY=def#frag"),
    "https://api.example/x?page=2&access_token=***&API_KEY=***#frag",
  );
  // A parameter that only ends like a credential name is kept.
  assert.equal(redact("https://api.example/x?monkey=1"), "https://api.example/x?monkey=1");
});

Deno.test("scrubError() masks a URL's secrets along the cause chain, else keeps the error", () => {
  const url = "https://u:pw%21@api.example/x?token=t0k";
  const clean = new TypeError("refused");
  assert.equal(scrubError(clean, url), clean);
  const leaky = new TypeError("fetch failed", {
    cause: new Error(`error sending request for url (${url})`),
  });
  const scrubbed = scrubError(leaky, url) as Error;
  assert.equal(scrubbed.name, "TypeError");
  assert.equal(scrubbed.message, "fetch failed");
  assert.equal(
    (scrubbed.cause as Error).message,
    "error sending request for url (https://api.example/x?token=***)",
  );
});
