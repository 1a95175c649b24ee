// A TCP proxy on loopback that forwards to a real server after `delayMs`, to make a store slow
// on demand. cut() drops the connections open now (what is still delayed is lost) and keeps
// accepting new ones; close() tears every connection down and waits for the pumps to end.

export class DelayProxy {
  delayMs: number;
  readonly port: number;
  #listener: Deno.Listener;
  #conns = new Set<Deno.Conn>();
  #tasks = new Set<Promise<void>>();
  #accepting: Promise<void>;

  constructor(targetPort: number, delayMs: number) {
    this.delayMs = delayMs;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept(targetPort);
  }

  async #accept(targetPort: number): Promise<void> {
    try {
      for await (const client of this.#listener) {
        this.#conns.add(client);
        const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
        this.#conns.add(upstream);
        this.#track(this.#pump(client, upstream));
        this.#track(this.#pump(upstream, client));
      }
    } catch {
      // The listener was closed.
    }
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        const chunk = buffer.slice(0, n);
        if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
        let written = 0;
        while (written < chunk.length) written += await to.write(chunk.subarray(written));
      }
    } catch {
      // A side was closed.
    }
  }

  /** Drops every open connection, losing what they still carry; new ones are accepted. */
  cut(): void {
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    this.#conns.clear();
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all([...this.#tasks]);
  }
}

/** A loopback port nothing listens on. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
