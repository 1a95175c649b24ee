// The loopback server of bench/pool_bench.ts, run in its own process so that the server's work
// does not share an event loop with the clients being measured. Prints its port on stdout and
// exits when its stdin closes (the bench process ended).
const body = JSON.stringify({ id: 1, name: "fluxpool", tags: ["a", "b", "c"] });
const server = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log(port) },
  () => new Response(body, { headers: { "content-type": "application/json" } }),
);
for await (const _ of Deno.stdin.readable) {
  // Nothing is sent; the loop ends at EOF.
}
await server.shutdown();
