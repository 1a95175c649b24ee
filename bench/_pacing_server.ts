// The upstream of bench/pacing_report.ts, in its own process so that the server's work does not
// share an event loop with the clients measured. `POST /__scenario` (a Scenario as JSON) starts a
// fresh upstream; `GET /__stats` reports what it accepted and rejected, and over how long;
// `GET /__echo` answers after the scenario's latency, counted nowhere. Prints its port on stdout
// and exits when its stdin closes.
import { type Scenario, Upstream } from "./_pacing_upstream.ts";

let upstream: Upstream | undefined;
let lastAt = 0; // performance.now() of the last answer
const server = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log(port) },
  async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/__scenario") {
      upstream = new Upstream((await request.json()) as Scenario);
      lastAt = 0;
      return new Response("ok");
    }
    if (path === "/__stats") {
      // spanMs: from the first request to the last answer, as the server saw them.
      const spanMs = upstream === undefined ? 0 : lastAt - upstream.firstAt;
      return Response.json({ accepted: upstream?.accepted, rejected: upstream?.rejected, spanMs });
    }
    if (path === "/__echo") {
      // The round trip of a request that nothing limits: the scenario's latency, uncounted.
      await new Promise((resolve) => setTimeout(resolve, upstream?.scenario.latencyMs ?? 0));
      return new Response("ok");
    }
    if (upstream === undefined) return new Response("no scenario", { status: 500 });
    const response = await upstream.handle(request);
    lastAt = performance.now();
    return response;
  },
);
for await (const _ of Deno.stdin.readable) {
  // Nothing is sent; the loop ends at EOF.
}
await server.shutdown();
