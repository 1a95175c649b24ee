// What the browser page of tests/runtime/browser_test.ts runs: the matrix's portable smoke, then
// what only a browser enforces — CORS — against the loopback API, which is another origin than
// the page's. Web standards and the public API only; the harness bundles it with esbuild.
import { isNetworkError, linkHeader, Pool } from "../../mod.ts";
import { smoke, type SmokeReport } from "./smoke.ts";

/** How one request the browser refuses by CORS ends. */
export interface Refused {
  /** The error's name: `NetworkError` from the pool. */
  name: string;
  isNetworkError: boolean;
  /** Whether the browser's own error (a `TypeError`) is the `cause`. */
  causeIsTypeError: boolean;
  /** Milliseconds until the pool gave up, retries included. */
  elapsedMs: number;
}

/** What the page reports; the harness compares it with {@linkcode expectedInBrowser}. */
export interface BrowserReport {
  smoke: SmokeReport;
  cors: {
    /** A bearer token sent after a preflight the API allows (`Authorization`). */
    whoami: string;
    /** Link-header pagination: the API exposes `Link` (Access-Control-Expose-Headers). */
    linked: number[];
    /** A GET whose answer carries no Access-Control-Allow-Origin. */
    noAllowOrigin: Refused;
    /** A GET with a request header the preflight does not allow. */
    preflightRefused: Refused;
  };
}

/** Runs the smoke and the CORS checks against the API at `apiBase`. */
export async function browserSmoke(apiBase: string): Promise<BrowserReport> {
  return { smoke: await smoke(apiBase), cors: await cors(apiBase) };
}

async function cors(apiBase: string): Promise<BrowserReport["cors"]> {
  const retry = { attempts: 2, baseDelayMs: 10 };
  const pool = new Pool({ baseUrl: apiBase, retry, auth: { token: () => "t1" } });
  const bare = new Pool({ baseUrl: apiBase, retry });
  const custom = new Pool({ baseUrl: apiBase, retry, headers: { "X-Custom": "1" } });
  try {
    const whoami = await (await pool.get("/whoami")).text();
    const linked: number[] = [];
    for await (const item of bare.paginate<number>("/linked?page=1", { strategy: linkHeader() })) {
      linked.push(item);
    }
    return {
      whoami,
      linked,
      noAllowOrigin: await refused(bare, "/private"),
      preflightRefused: await refused(custom, "/hello?via=custom-header"),
    };
  } finally {
    await Promise.all([pool.close(), bare.close(), custom.close()]);
  }
}

async function refused(pool: Pool, path: string): Promise<Refused> {
  const start = performance.now();
  try {
    const response = await pool.get(path);
    await response.body?.cancel();
    throw new Error(`${path} was not refused`);
  } catch (error) {
    const { name, cause } = error as Error;
    const elapsedMs = performance.now() - start;
    return {
      name,
      isNetworkError: isNetworkError(error),
      causeIsTypeError: cause instanceof TypeError,
      elapsedMs,
    };
  }
}
