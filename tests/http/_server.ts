// A loopback test server that records what it received.

/** What the server saw of one request (a Deno request cannot be read after its answer). */
export interface Seen {
  url: string;
  method: string;
  headers: Headers;
}

export interface TestServer {
  url: string;
  port: number;
  requests: Seen[];
  close(): Promise<void>;
}

export function serve(
  handler: (request: Request, index: number) => Response | Promise<Response>,
): TestServer {
  const requests: Seen[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      requests.push({
        url: request.url,
        method: request.method,
        headers: new Headers(request.headers),
      });
      return handler(request, requests.length - 1);
    },
  );
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => server.shutdown(),
  };
}
