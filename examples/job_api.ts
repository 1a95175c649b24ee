// A job API on a Dispatcher, built with Hono: `POST /generate` answers 202 at once with a job id
// and runs the job on the least-loaded worker, keeping each chat (the `x-session-id` header) on
// one worker; `GET /jobs/:id` reports `pending | completed | failed`; `GET /metrics` shows the
// workers. Finished jobs expire after a TTL, and the queues are bounded, so memory stays bounded.
//
//   deno run -A examples/job_api.ts          # serves on http://127.0.0.1:8000 (PORT to change)
//   curl -si -X POST localhost:8000/generate -H 'x-session-id: chat-1' -d '{"prompt":"hi"}'
//   curl -s localhost:8000/jobs/<id>
import { Hono } from "hono";
import type { Context } from "hono";
import { type Clock, systemClock } from "../src/limiter/mod.ts";
import { type DispatchContext, Dispatcher } from "../src/dispatch/mod.ts";

/** What `POST /generate` asks for. */
export interface GenerateRequest {
  prompt: string;
}

/** The job behind `POST /generate`; it must honour `ctx.signal`. */
export type Generate = (req: GenerateRequest, ctx: DispatchContext) => Promise<string>;

/** Options for {@linkcode createJobApi}. */
export interface JobApiOptions {
  /** The job. @default a simulated generation of `delayMs` */
  generate?: Generate;
  /** Delay of the simulated generation. @default {50} */
  delayMs?: number;
  /** Workers of the dispatcher. @default {4} */
  workers?: number;
  /** Jobs each worker runs at once. @default {2} */
  concurrency?: number;
  /** Jobs each worker holds waiting; past that `POST /generate` answers 503. @default {64} */
  queueCapacity?: number;
  /** How long a finished job stays readable. @default {60_000} */
  jobTtlMs?: number;
  /** Finished jobs kept at most, whatever their age. @default {10_000} */
  maxFinishedJobs?: number;
  /** Where time comes from (job expiry and session affinity). @default {systemClock} */
  clock?: Clock;
}

/** A job as `GET /jobs/:id` reports it. */
export interface JobRecord {
  id: string;
  status: "pending" | "completed" | "failed";
  result?: string;
  error?: string;
  workerId?: number;
}

/** The app and what it runs on. */
export interface JobApi {
  app: Hono;
  dispatcher: Dispatcher<GenerateRequest, { text: string; workerId: number }>;
  /** Stops accepting jobs and waits for the accepted ones (at most `deadlineMs`). */
  close(deadlineMs?: number): Promise<void>;
}

/** A stand-in for a call to a generative-AI API: a short, abortable delay. */
export function simulateGeneration(delayMs: number): Generate {
  return ({ prompt }, { workerId, signal }) =>
    new Promise((resolve, reject) => {
      signal.throwIfAborted();
      // The signal may be shared by many jobs: remove the listener when done.
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(`worker ${workerId} says: ${prompt.split("").reverse().join("")}`);
      }, delayMs);
      signal.addEventListener("abort", onAbort, { once: true });
    });
}

function problem(c: Context, status: 400 | 404 | 503, title: string, detail: string): Response {
  return c.body(JSON.stringify({ type: "about:blank", title, status, detail }), status, {
    "content-type": "application/problem+json",
  });
}

/**
 * Creates the job API. Test it in process with `app.request()`; serve it with `Deno.serve`.
 * @param options The job, the dispatcher's size, and how long finished jobs are kept.
 * @returns The app, its dispatcher, and `close()`.
 */
export function createJobApi(options: JobApiOptions = {}): JobApi {
  const {
    delayMs = 50,
    generate = simulateGeneration(delayMs),
    workers = 4,
    concurrency = 2,
    queueCapacity = 64,
    jobTtlMs = 60_000,
    maxFinishedJobs = 10_000,
    clock = systemClock,
  } = options;
  const dispatcher = new Dispatcher(
    async (req: GenerateRequest, ctx: DispatchContext) => ({
      text: await generate(req, ctx),
      workerId: ctx.workerId,
    }),
    { workers, concurrency, queueCapacity, overflow: "reject", clock },
  );
  const jobs = new Map<string, JobRecord>();
  // Finished jobs in the order they finished, so the oldest expire from the front.
  const finished = new Map<string, number>();

  function sweep(): void {
    const now = clock.now();
    for (const [id, expiresAt] of finished) {
      if (expiresAt > now && finished.size <= maxFinishedJobs) return;
      finished.delete(id);
      jobs.delete(id);
    }
  }

  function finish(record: JobRecord, update: Partial<JobRecord>): void {
    Object.assign(record, update);
    finished.set(record.id, clock.now() + jobTtlMs);
    sweep();
  }

  const app = new Hono();
  app.post("/generate", async (c) => {
    sweep();
    const body = await c.req.json().catch(() => undefined);
    if (typeof body?.prompt !== "string" || body.prompt.length === 0) {
      return problem(c, 400, "Bad request", `The body must be JSON with a non-empty "prompt".`);
    }
    const full = dispatcher.metrics().every((m) =>
      m.inflight + m.queued >= m.capacity + m.queueCapacity
    );
    if (full) {
      c.header("retry-after", "1");
      return problem(c, 503, "Busy", "Every worker's queue is full; try again shortly.");
    }
    const record: JobRecord = { id: crypto.randomUUID(), status: "pending" };
    jobs.set(record.id, record);
    const session = c.req.header("x-session-id") || undefined;
    dispatcher.submit({ prompt: body.prompt }, { session }).then(
      ({ text, workerId }) => finish(record, { status: "completed", result: text, workerId }),
      (error) => finish(record, { status: "failed", error: String(error?.message ?? error) }),
    );
    c.header("location", `/jobs/${record.id}`);
    return c.json({ id: record.id, status: record.status }, 202);
  });
  app.get("/jobs/:id", (c) => {
    sweep();
    const record = jobs.get(c.req.param("id"));
    if (record === undefined) {
      return problem(c, 404, "Not found", "No such job, or it finished and expired.");
    }
    return c.json(record);
  });
  app.get("/metrics", (c) => {
    sweep();
    return c.json({
      workers: dispatcher.metrics(),
      jobs: jobs.size,
      sessions: dispatcher.sessions,
    });
  });

  return { app, dispatcher, close: (deadlineMs) => dispatcher.close({ deadlineMs }) };
}

if (import.meta.main) {
  const { app, close } = createJobApi();
  const port = Number(Deno.env.get("PORT") ?? 8000);
  const server = Deno.serve({ port, hostname: "127.0.0.1" }, app.fetch);
  Deno.addSignalListener("SIGINT", async () => {
    await close(5_000);
    await server.shutdown();
    Deno.exit(0);
  });
}
