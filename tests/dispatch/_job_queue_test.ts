import assert from "node:assert/strict";
import { JobQueue } from "../../src/dispatch/_job_queue.ts";

interface Node {
  next: Node | undefined;
  resolve: ((value: never) => void) | undefined;
  id: number;
}

function node(id: number): Node {
  return { next: undefined, resolve: () => {}, id };
}

function kill(queue: JobQueue<Node>, job: Node): void {
  job.resolve = undefined;
  queue.discard();
}

Deno.test("JobQueue.shift() skips the jobs taken out where they stood, in FIFO order", () => {
  const queue = new JobQueue<Node>();
  const nodes = [0, 1, 2, 3, 4].map(node);
  for (const n of nodes) queue.push(n);
  kill(queue, nodes[0]);
  kill(queue, nodes[2]);
  kill(queue, nodes[4]);
  assert.equal(queue.size, 2);
  assert.equal(queue.peek()?.id, 1);
  assert.equal(queue.shift()?.id, 1);
  assert.equal(queue.shift()?.id, 3);
  assert.equal(queue.shift(), undefined);
  assert.equal(queue.linked, 0);
  queue.push(node(5)); // the tail was a dead job: the queue starts afresh
  assert.equal(queue.shift()?.id, 5);
  assert.equal(queue.size, 0);
});

Deno.test("JobQueue.discard() keeps dead jobs bounded when the front never moves", () => {
  const queue = new JobQueue<Node>();
  queue.push(node(-1)); // a live job at the front that never leaves (a stuck worker)
  for (let i = 0; i < 10_000; i++) {
    const n = node(i);
    queue.push(n);
    kill(queue, n);
  }
  assert.equal(queue.size, 1);
  assert.ok(queue.linked <= 1 + 1 + 16, `${queue.linked} jobs still linked`);
  const survivor = node(10_000);
  queue.push(survivor);
  assert.equal(queue.shift()?.id, -1);
  assert.equal(queue.shift()?.id, 10_000);
  assert.equal(queue.linked, 0);
});
