// .ci/redis-cluster.sh, which CI runs before the tests, on three loopback ports of its own: a
// cluster left broken by an earlier run (a slot left open by a migration, a node down) must be
// made whole again, not waited for. A CI run once failed on such a cluster after 20 s.
import assert from "node:assert/strict";
import { run as runCommand } from "../../_run.ts";

const SCRIPT = new URL("../../../.ci/redis-cluster.sh", import.meta.url).pathname;

// The script waits up to 20 s before it gives up on a cluster: a minute bounds every command.
async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await runCommand(command, args, { env, timeoutMs: 60_000 });
  return { code, out: stdout + stderr };
}

async function onPath(tool: string): Promise<boolean> {
  try {
    return (await run(tool, ["--version"])).code === 0;
  } catch {
    return false;
  }
}

// Three free loopback ports in a row (nothing answers a PING there).
async function freePorts(): Promise<number[]> {
  for (let base = 17_101; base < 17_400; base += 3) {
    const ports = [base, base + 1, base + 2];
    const taken = await Promise.all(
      ports.map((port) =>
        Deno.connect({ hostname: "127.0.0.1", port }).then(
          (conn) => (conn.close(), true),
          () => false,
        )
      ),
    );
    if (!taken.some(Boolean)) return ports;
  }
  throw new Error("no three free loopback ports between 17101 and 17400");
}

const tools = (await onPath("redis-server")) && (await onPath("redis-cli"));
const ci = Deno.env.get("CI") === "true";
if (!tools && !ci) {
  console.log("skipping the cluster script test: install Redis >= 7 (redis-server)");
}

Deno.test({
  name: ".ci/redis-cluster.sh makes a cluster with an open slot and a node down whole again",
  ignore: !tools && !ci,
  async fn() {
    assert.ok(tools, "redis-server and redis-cli must be on PATH");
    const ports = await freePorts();
    const dir = await Deno.makeTempDir({ prefix: "fluxpool-cluster-script-" });
    const env = { REDIS_CLUSTER_PORTS: ports.join(" "), REDIS_CLUSTER_DIR: dir };
    const cli = (port: number, ...args: string[]) =>
      run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
    const check = () => run("redis-cli", ["--cluster", "check", `127.0.0.1:${ports[0]}`]);
    try {
      const first = await run("bash", [SCRIPT], env);
      assert.equal(first.code, 0, first.out);
      assert.equal((await check()).code, 0, "a fresh cluster passes its check");

      // What tests leave behind: slot 0 half-migrated (its owner, the first node, stays; the
      // second one is left importing it), and a node shut down, which keeps its nodes-P.conf.
      const owner = (await cli(ports[0], "cluster", "myid")).out.trim();
      assert.equal((await cli(ports[1], "cluster", "setslot", "0", "importing", owner)).code, 0);
      assert.notEqual((await check()).code, 0, "an open slot fails the check");
      await cli(ports[2], "shutdown", "nosave");

      const started = performance.now();
      const again = await run("bash", [SCRIPT], env);
      assert.equal(again.code, 0, again.out);
      const checked = await check();
      assert.equal(checked.code, 0, checked.out);
      assert.match(checked.out, /All nodes agree about slots configuration/);
      // Made whole, not waited for (the script waits up to 20 s before it gives up).
      assert.ok(performance.now() - started < 15_000, `${performance.now() - started} ms`);

      // Healthy: left as it is.
      const idle = await run("bash", [SCRIPT], env);
      assert.equal(idle.code, 0, idle.out);
      assert.doesNotMatch(idle.out, /restarting/);
    } finally {
      for (const port of ports) await cli(port, "shutdown", "nosave");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
