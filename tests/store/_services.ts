// Service-gated tests: a test that needs Redis, a Redis Cluster or PostgreSQL runs when the
// service answers on loopback, fails under CI=true when it does not, and is skipped with one
// line otherwise.

const services = {
  redis: { port: 6379, start: "redis-server (Redis on 127.0.0.1:6379)" },
  redisCluster: {
    port: 7001,
    start: ".ci/redis-cluster.sh (a Redis Cluster on 127.0.0.1:7001-7003)",
  },
  postgres: {
    port: 5432,
    start: "PostgreSQL on 127.0.0.1:5432 (user postgres, database test)",
  },
} as const;

/** The Redis Cluster's nodes, as the tests reach them. */
export const CLUSTER_PORTS = [7001, 7002, 7003] as const;

export type Service = keyof typeof services;

const reachable = new Map<Service, Promise<boolean>>();
const warned = new Set<Service>();

function probe(service: Service): Promise<boolean> {
  let result = reachable.get(service);
  if (result === undefined) {
    result = service === "redisCluster"
      ? clusterOk()
      : Deno.connect({ hostname: "127.0.0.1", port: services[service].port }).then(
        (conn) => (conn.close(), true),
        () => false,
      );
    reachable.set(service, result);
  }
  return result;
}

// A node that answers is not enough: the cluster must serve every slot.
async function clusterOk(): Promise<boolean> {
  let conn: Deno.Conn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port: services.redisCluster.port });
    await conn.write(new TextEncoder().encode("CLUSTER INFO\r\n"));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    return /cluster_state:ok/.test(new TextDecoder().decode(buffer.subarray(0, n ?? 0)));
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/** Registers a test that needs `service`. */
export async function serviceTest(
  service: Service,
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): Promise<void> {
  const up = await probe(service);
  const ci = Deno.env.get("CI") === "true";
  if (!up && !ci && !warned.has(service)) {
    warned.add(service);
    console.log(`skipping ${service} tests: start ${services[service].start}`);
  }
  Deno.test({
    name,
    ignore: !up && !ci,
    fn: up ? fn : () => {
      throw new Error(`${name} needs ${services[service].start}, which is not reachable`);
    },
  });
}
