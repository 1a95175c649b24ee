// Loopback servers and fetchers shared by the pagination tests.
import type { PageFetcher } from "../../mod.ts";

/** A running loopback server that counts requests and those in flight. */
export interface TestServer extends AsyncDisposable {
  url: string;
  hits: number;
  inflight: number;
  maxInflight: number;
  requests: URL[];
  aborted: number;
}

/** Serves `handler` on 127.0.0.1:0; counts hits, concurrency and aborted requests. */
export function serve(
  handler: (url: URL, request: Request) => Response | Promise<Response>,
): TestServer {
  const state = {
    hits: 0,
    inflight: 0,
    maxInflight: 0,
    requests: [] as URL[],
    aborted: 0,
  };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const url = new URL(request.url);
    state.hits++;
    state.requests.push(url);
    state.inflight++;
    state.maxInflight = Math.max(state.maxInflight, state.inflight);
    // Deno aborts request.signal after a complete response too: count only aborts mid-handler.
    let finished = false;
    request.signal.addEventListener("abort", () => finished || state.aborted++);
    try {
      return await handler(url, request);
    } finally {
      finished = true;
      state.inflight--;
    }
  });
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  });
}

/** Resolves after `ms`, or rejects when `signal` aborts (clearing the timer). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Plain fetch as a PageFetcher. */
export const plainFetch: PageFetcher = (input, init) =>
  fetch(input, { signal: init.signal, headers: init.headers });

/** A fetcher that retries 5xx answers and network errors up to `attempts` times. */
export function retrying(attempts: number): PageFetcher {
  return async (input, init) => {
    for (let attempt = 1;; attempt++) {
      try {
        const response = await fetch(input, { signal: init.signal });
        if (response.status < 500 || attempt === attempts) return response;
        await response.body?.cancel();
      } catch (error) {
        if (init.signal?.aborted || attempt === attempts) throw error;
      }
    }
  };
}

/** A page-number page: `{ data, pagination: { total_pages } }`. */
export function numbered(page: number, perPage: number, totalPages: number): Response {
  const data = page >= 1 && page <= totalPages
    ? Array.from({ length: perPage }, (_, i) => (page - 1) * perPage + i)
    : [];
  return Response.json({
    data,
    pagination: { total_pages: totalPages, total: totalPages * perPage },
  });
}

/** The numbers 0..n-1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Waits until `condition()` holds, polling every 5 ms, for at most `ms`. */
export async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("the condition did not hold in time");
    await delay(5);
  }
}
