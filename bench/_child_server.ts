// A benchmark's upstream in its own Deno process, so that the server's work does not share an
// event loop with the clients being measured. The script prints its port on stdout and exits
// when its stdin closes.

/** A server started by {@linkcode startChildServer}. */
export interface ChildServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Closes the server's stdin and waits for it to exit. */
  stop(): Promise<void>;
  /** Ends the process at once (for an `unload` handler). */
  kill(): void;
}

/** Starts `script` in a child Deno process and resolves once it has printed its port. */
export async function startChildServer(script: URL): Promise<ChildServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", script.pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return {
    origin: `http://127.0.0.1:${Number.parseInt(value!, 10)}`,
    async stop() {
      await child.stdin.close();
      await child.status;
    },
    kill() {
      try {
        child.kill();
      } catch {
        // Already gone.
      }
    },
  };
}
