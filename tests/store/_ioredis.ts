// Ending ioredis clients so that no timer of theirs outlives the test (Deno's op sanitizer).
// ioredis's `disconnect()` arms a timer on each connection that only the connection's "close"
// clears; waiting for the client's "end" (which follows the close) waits for that.
import type { Cluster, Redis } from "ioredis";

/**
 * Disconnects `redis` and waits for its "end". A client that has already ended (its connection
 * refused, no retry) is not disconnected again: its connection closed already, so the timer
 * would never be cleared. `closing` runs after the disconnect, for what must close for the
 * connection to end (a proxy in front of Redis).
 */
export async function disconnect(redis: Redis, closing?: () => Promise<void>): Promise<void> {
  if (redis.status === "end") return await closing?.();
  const ended = new Promise((resolve) => redis.once("end", resolve));
  redis.disconnect();
  await closing?.();
  await ended;
}

/** Disconnects `cluster` and waits for the "end" of each of its node clients (see above). */
export async function disconnectCluster(
  cluster: Cluster,
  closing?: () => Promise<void>,
): Promise<void> {
  const ended = cluster.nodes("all").filter((node) => node.status !== "end").map((node) =>
    new Promise((resolve) => node.once("end", resolve))
  );
  cluster.disconnect();
  await closing?.();
  await Promise.all(ended);
}
