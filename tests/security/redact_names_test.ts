// redact() (src/core/url_redaction.ts) masks a fixed list of parameter names; GitLab's documented
// `private_token` query parameter (whose header twin `private-token` IS in the default credential
// headers), `auth_token` and `oauth_token` are not in it, so they reach errors, events and spans.
import { Pool } from "../../mod.ts";
import assert from "node:assert/strict";

Deno.test("Pool keeps private_token / auth_token / oauth_token query values out of errors and events", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("no", { status: 404 }),
  );
  const urls: string[] = [];
  const pool = new Pool({
    baseUrl: `http://127.0.0.1:${server.addr.port}/`,
    onEvent: (e) => urls.push(e.url),
  });
  try {
    const leaks: string[] = [];
    for (const name of ["private_token", "auth_token", "oauth_token"]) {
      const error = await pool.get(`/projects?${name}=SECRET-${name}`).catch((e) => e);
      if (String(error.message).includes(`SECRET-${name}`)) leaks.push(`${name}: ${error.message}`);
    }
    assert.deepEqual(leaks, []);
  } finally {
    await pool.close();
    await server.shutdown();
  }
});
