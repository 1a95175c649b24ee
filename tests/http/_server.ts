// A loopback test server that records what it received.

export interface TestServer {
  url: string;
  port: number;
  requests: Request[];
  close(): Promise<void>;
}

export function serve(
  handler: (request: Request, index: number) => Response | Promise<Response>,
): TestServer {
  const requests: Request[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      requests.push(request);
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
