// A redis-server of the test's own, on a free loopback port, that the test can stop and start
// again (without persistence, so a restart begins empty). Tests that need it skip with one line
// when `redis-server` is not on PATH, and fail under CI=true.

let found: Promise<boolean> | undefined;
let warned = false;

function installed(): Promise<boolean> {
  found ??= new Deno.Command("redis-server", {
    args: ["--version"],
    stdout: "null",
    stderr: "null",
  })
    .output().then((output) => output.success, () => false);
  return found;
}

/** A stoppable redis-server on `port`. */
export class RedisServer {
  #child: Deno.ChildProcess | undefined;
  constructor(readonly port: number) {}

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 200; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port })).close();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Kills the server and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined) return;
    child.kill("SIGKILL");
    await child.status;
  }
}

/** Registers a test that starts redis-servers of its own. */
export async function redisServerTest(name: string, fn: () => Promise<void>): Promise<void> {
  const up = await installed();
  const ci = Deno.env.get("CI") === "true";
  if (!up && !ci && !warned) {
    warned = true;
    console.log("skipping tests that start their own Redis: install redis-server");
  }
  Deno.test({
    name,
    ignore: !up && !ci,
    fn: up ? fn : () => {
      throw new Error(`${name} needs redis-server on PATH, which is missing`);
    },
  });
}
