import assert from "node:assert/strict";
import type { DispatchContext } from "../../src/dispatch/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { createJobApi, type GenerateRequest, type JobRecord } from "../../examples/job_api.ts";

/** A generation that finishes only when the test says so. */
function gatedGenerate() {
  const waiting: { prompt: string; workerId: number; finish(error?: Error): void }[] = [];
  const generate = ({ prompt }: GenerateRequest, { workerId, signal }: DispatchContext) =>
    new Promise<string>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      waiting.push({
        prompt,
        workerId,
        finish(error) {
          signal.removeEventListener("abort", onAbort);
          if (error) reject(error);
          else resolve(prompt.toUpperCase());
        },
      });
    });
  return { waiting, generate };
}

function post(prompt: unknown, session?: string): Request {
  return new Request("http://api.test/generate", {
    method: "POST",
    headers: { "content-type": "application/json", ...(session && { "x-session-id": session }) },
    body: JSON.stringify({ prompt }),
  });
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("createJobApi() POST /generate answers 202 at once and GET /jobs/:id reports the result", async () => {
  const { waiting, generate } = gatedGenerate();
  const { app, close } = createJobApi({ generate });
  const res = await app.request(post("hello"));
  assert.equal(res.status, 202);
  const { id, status } = await res.json();
  assert.equal(status, "pending");
  assert.equal(res.headers.get("location"), `/jobs/${id}`);
  const pending = await app.request(`/jobs/${id}`);
  assert.deepEqual(await pending.json(), { id, status: "pending" });
  waiting[0].finish();
  await tick();
  const done: JobRecord = await (await app.request(`/jobs/${id}`)).json();
  assert.deepEqual(done, {
    id,
    status: "completed",
    result: "HELLO",
    workerId: waiting[0].workerId,
  });
  await close();
});

Deno.test("createJobApi() reports a failed job with its error", async () => {
  const { waiting, generate } = gatedGenerate();
  const { app, close } = createJobApi({ generate });
  const { id } = await (await app.request(post("boom"))).json();
  waiting[0].finish(new Error("model overloaded"));
  await tick();
  const record: JobRecord = await (await app.request(`/jobs/${id}`)).json();
  assert.deepEqual(record, { id, status: "failed", error: "model overloaded" });
  await close();
});

Deno.test("createJobApi() keeps a session's jobs on one worker", async () => {
  const { waiting, generate } = gatedGenerate();
  const { app, close } = createJobApi({ generate, workers: 4 });
  for (let i = 0; i < 3; i++) await (await app.request(post(`turn ${i}`, "chat-1"))).body?.cancel();
  await (await app.request(post("other"))).body?.cancel();
  const chat = waiting.filter((w) => w.prompt.startsWith("turn")).map((w) => w.workerId);
  assert.equal(new Set(chat).size, 1);
  const metrics = await (await app.request("/metrics")).json();
  assert.equal(metrics.workers.length, 4);
  assert.equal(metrics.jobs, 4);
  assert.equal(metrics.sessions, 1);
  assert.equal(
    metrics.workers.reduce(
      (sum: number, m: { inflight: number; queued: number }) => sum + m.inflight + m.queued,
      0,
    ),
    4,
  );
  for (const w of waiting) w.finish();
  await tick(); // the queued turn starts
  waiting.at(-1)!.finish();
  await close();
});

Deno.test("createJobApi() expires finished jobs after the TTL", async () => {
  const clock = new ManualClock();
  const { waiting, generate } = gatedGenerate();
  const { app, close } = createJobApi({ generate, jobTtlMs: 1000, clock });
  const { id } = await (await app.request(post("x"))).json();
  waiting[0].finish();
  await tick();
  clock.advance(999);
  assert.equal((await app.request(`/jobs/${id}`)).status, 200);
  clock.advance(1);
  const gone = await app.request(`/jobs/${id}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.headers.get("content-type"), "application/problem+json");
  await gone.body?.cancel();
  assert.equal((await (await app.request("/metrics")).json()).jobs, 0);
  await close();
});

Deno.test("createJobApi() answers 503 with Retry-After when every queue is full", async () => {
  const { waiting, generate } = gatedGenerate();
  const { app, close } = createJobApi({ generate, workers: 1, concurrency: 1, queueCapacity: 1 });
  for (const prompt of ["a", "b"]) assert.equal((await app.request(post(prompt))).status, 202);
  const busy = await app.request(post("c"));
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get("retry-after"), "1");
  assert.equal((await busy.json()).title, "Busy");
  waiting[0].finish();
  await tick();
  waiting[1].finish();
  await close();
});

Deno.test("createJobApi() rejects a bad body with 400 and an unknown job with 404", async () => {
  const { app, close } = createJobApi();
  const bad = await app.request(post(42));
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).status, 400);
  const missing = await app.request("/jobs/nope");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  await close();
});

Deno.test("createJobApi() runs the simulated generation and close() waits for it", async () => {
  const { app, close } = createJobApi({ delayMs: 5 });
  const { id } = await (await app.request(post("abc", "s"))).json();
  await close(5_000);
  const record: JobRecord = await (await app.request(`/jobs/${id}`)).json();
  assert.equal(record.status, "completed");
  assert.match(record.result!, /^worker \d says: cba$/);
});

Deno.test("createJobApi() close() past its deadline aborts the running generation", async () => {
  const { app, close } = createJobApi({ delayMs: 60_000 });
  const { id } = await (await app.request(post("slow"))).json();
  await close(0);
  await tick();
  const record: JobRecord = await (await app.request(`/jobs/${id}`)).json();
  assert.equal(record.status, "failed");
  assert.equal(record.error, "Cannot finish the job as the dispatcher closed past its deadline");
});
