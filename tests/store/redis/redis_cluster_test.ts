// RedisStore on a real three-master Redis Cluster (`.ci/redis-cluster.sh`, 127.0.0.1:7001-7003)
// through ioredis's Cluster and node-redis's createCluster(): keys spread over the masters, a
// several-limit decision stays on one key (so one slot), and the clients follow ASK and MOVED
// while a key's slot migrates, with the key's state intact.
import assert from "node:assert/strict";
import { Cluster, Redis } from "ioredis";
import { createCluster } from "redis";
import { DistributedLimiter, type StateStore } from "../../../src/store/mod.ts";
import { multiLimit } from "../../../src/limiter/mod.ts";
import { fromIoredis, fromNodeRedis, RedisStore } from "../../../src/store/redis/mod.ts";
import { CLUSTER_PORTS, serviceTest } from "../_services.ts";
import { assertAllEquivalent } from "../_equivalence.ts";
import { DelayProxy } from "../_delay_proxy.ts";
import { disconnectCluster } from "../_ioredis.ts";
import type { ManualClock } from "../../../src/testing/mod.ts";

type Client = "ioredis" | "node-redis";
// As documented: a Cluster that neither queues nor resends decisions (see fromIoredis()).
const IOREDIS_CLUSTER = {
  enableOfflineQueue: false,
  retryDelayOnFailover: 0,
  retryDelayOnClusterDown: 0,
} as const;
const CLIENTS: Client[] = ["ioredis", "node-redis"];

/** A store on the cluster through `client`, as the docs create it. */
async function withClusterStore(
  client: Client,
  fn: (store: (clock?: ManualClock) => StateStore) => Promise<void>,
): Promise<void> {
  if (client === "ioredis") {
    const cluster = new Cluster([{ host: "127.0.0.1", port: CLUSTER_PORTS[0] }], {
      ...IOREDIS_CLUSTER,
      lazyConnect: true,
    });
    cluster.on("error", () => {});
    await cluster.connect();
    try {
      await fn((clock) => new RedisStore(fromIoredis(cluster), { clock }));
    } finally {
      await cluster.quit();
    }
  } else {
    const cluster = createCluster({
      rootNodes: [{ url: `redis://127.0.0.1:${CLUSTER_PORTS[0]}` }],
      defaults: { disableOfflineQueue: true },
    });
    cluster.on("error", () => {});
    await cluster.connect();
    try {
      await fn((clock) => new RedisStore(fromNodeRedis(cluster), { clock }));
    } finally {
      cluster.destroy();
    }
  }
}

/** Plain connections to each master, for what the test checks behind the clients' backs. */
async function withNodes<T>(fn: (nodes: Redis[]) => Promise<T>): Promise<T> {
  const nodes = CLUSTER_PORTS.map((port) =>
    new Redis({ host: "127.0.0.1", port, lazyConnect: true })
  );
  await Promise.all(nodes.map((node) => node.connect()));
  try {
    return await fn(nodes);
  } finally {
    await Promise.all(nodes.map((node) => node.quit()));
  }
}

/** The index in `nodes` of the master serving `key`. */
async function ownerOf(nodes: Redis[], key: string): Promise<number> {
  const slot = Number(await nodes[0].call("CLUSTER", "KEYSLOT", key));
  const owner = await ownerSeenBy(nodes[0], slot);
  assert.ok(owner >= 0, `slot ${slot} is served`);
  return owner;
}

/** The index in CLUSTER_PORTS of the master that `node` thinks serves `slot` (-1: none). */
async function ownerSeenBy(node: Redis, slot: number): Promise<number> {
  const ranges = await node.call("CLUSTER", "SLOTS") as [number, number, [string, number]][];
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  return range === undefined
    ? -1
    : CLUSTER_PORTS.indexOf(range[2][1] as typeof CLUSTER_PORTS[number]);
}

/**
 * Waits until every master says master `owner` serves `slot`, and knows the config epoch every
 * master has now. Each node reports cluster_state:ok even when two of them each think the other
 * serves a slot, and clients then bounce between them until "Too many Cluster redirections"
 * (seen after many migrations): a test that moves slots must leave the nodes agreeing, or fail.
 */
async function assertAgree(nodes: Redis[], slot: number, owner: number): Promise<void> {
  let seen: number[] = [];
  for (let i = 0; i < 60; i++) {
    seen = await Promise.all(nodes.map((node) => ownerSeenBy(node, slot)));
    if (seen.every((n) => n === owner)) return await assertEpochsSettled(nodes);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`slot ${slot}: the masters say ${seen} serve it, not all ${owner}`);
}

/**
 * Waits until every master knows the same config epoch for every master. A master that takes a
 * slot raises its epoch above the highest it knows, without asking the others: moved again
 * before the last raise reached every master, the slot can be claimed with an epoch another
 * master holds too. Resolving that tie can give the slot, on some masters, to one that no longer
 * serves it, for good: its new owner says the other one serves it and the other says the owner
 * does (9 in 60 pairs of slot round trips under load, 0 in 60 with this wait).
 */
async function assertEpochsSettled(nodes: Redis[]): Promise<void> {
  let seen: string[] = [];
  for (let i = 0; i < 100; i++) {
    seen = await Promise.all(nodes.map(epochsSeenBy));
    if (seen.every((epochs) => epochs === seen[0])) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`the masters know different config epochs: ${seen.join(" | ")}`);
}

/** `<node id>:<config epoch>` of every master, as `node` knows them. */
async function epochsSeenBy(node: Redis): Promise<string> {
  const lines = (await node.call("CLUSTER", "NODES") as string).trim().split("\n");
  // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link> <slots>
  return lines.map((line) => line.split(" ")).map((f) => `${f[0]}:${f[6]}`).sort().join(" ");
}

for (const client of CLIENTS) {
  await serviceTest(
    "redisCluster",
    `RedisStore over a Redis Cluster spreads keys over the three masters (${client})`,
    async () => {
      await withClusterStore(client, async (store) => {
        const prefix = `fluxpool-test:cluster:${crypto.randomUUID()}`;
        const limiter = new DistributedLimiter({ store: store(), rate: 1, burst: 2, prefix });
        const keys = Array.from({ length: 30 }, (_, i) => `client-${i}`);
        for (const key of keys) {
          assert.equal((await limiter.check(key)).source, "store");
          assert.equal((await limiter.check(key)).remaining, 0);
          assert.equal((await limiter.check(key)).allowed, false);
        }
        await withNodes(async (nodes) => {
          const held = [0, 0, 0];
          for (const key of keys) {
            const full = `${prefix}:${key}`;
            const owner = await ownerOf(nodes, full);
            assert.equal(await nodes[owner].exists(full), 1, `${full} is on its master`);
            held[owner]++;
          }
          assert.ok(held.every((n) => n > 0), `keys per master: ${held}`);
        });
        for (const key of keys) await limiter.reset(key);
        limiter.close();
      });
    },
  );

  await serviceTest(
    "redisCluster",
    `DistributedLimiter over a Redis Cluster decides several limits on one key, with a hash-tagged prefix (${client})`,
    async () => {
      await withClusterStore(client, async (store) => {
        // All of a tenant's keys in one slot: the prefix carries the hash tag.
        const prefix = `fluxpool-test:{tenant-${crypto.randomUUID()}}`;
        const limiter = new DistributedLimiter({
          store: store(),
          prefix,
          algorithm: multiLimit([
            { rate: 2, period: 60_000, burst: 2 },
            { rate: 3, period: 86_400_000, burst: 3 },
          ]),
        });
        const allowed = [];
        for (const key of ["a", "a", "a", "b", "b"]) {
          allowed.push((await limiter.check(key)).allowed);
        }
        assert.deepEqual(allowed, [true, true, false, true, true]);
        await withNodes(async (nodes) => {
          const owners = await Promise.all(["a", "b"].map((k) => ownerOf(nodes, `${prefix}:${k}`)));
          assert.equal(owners[0], owners[1], "one tenant, one slot");
          // Both limits live in one value: nothing else was written.
          const slot = Number(await nodes[0].call("CLUSTER", "KEYSLOT", `${prefix}:a`));
          const keys = await nodes[owners[0]].call("CLUSTER", "GETKEYSINSLOT", slot, 10);
          assert.deepEqual((keys as string[]).sort(), [`${prefix}:a`, `${prefix}:b`]);
        });
        await limiter.reset("a");
        await limiter.reset("b");
        limiter.close();
      });
    },
  );

  await serviceTest(
    "redisCluster",
    `RedisStore over a Redis Cluster decides as the algorithms do, for every algorithm (${client})`,
    async () => {
      await withClusterStore(client, (store) => assertAllEquivalent((clock) => store(clock), 5));
    },
  );
}

/** Node ids and addresses of the three masters, in CLUSTER_PORTS order. */
async function ids(nodes: Redis[]): Promise<string[]> {
  return await Promise.all(nodes.map((node) => node.call("CLUSTER", "MYID") as Promise<string>));
}

/**
 * Moves `slot` from master `from` to master `to` as `redis-cli --cluster reshard` does, calling
 * `midway` once its keys are on `to` but the slot is still `from`'s (clients then get ASK).
 */
async function moveSlot(
  nodes: Redis[],
  slot: number,
  from: number,
  to: number,
  midway: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const [fromId, toId] = [(await ids(nodes))[from], (await ids(nodes))[to]];
  // `to` raises its epoch when it takes the slot: above every master's, once all know them all.
  await assertEpochsSettled(nodes);
  await nodes[to].call("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId);
  await nodes[from].call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
  while (true) {
    const keys = await nodes[from].call("CLUSTER", "GETKEYSINSLOT", slot, 100) as string[];
    if (keys.length === 0) break;
    await nodes[from].call("MIGRATE", "127.0.0.1", CLUSTER_PORTS[to], "", 0, 5000, "KEYS", ...keys);
  }
  await midway();
  for (const node of [nodes[to], nodes[from], ...nodes]) {
    await node.call("CLUSTER", "SETSLOT", slot, "NODE", toId);
  }
  // The new owner's claim must carry the highest config epoch, or a ping of the old owner still
  // on its way (with the epoch that claimed the slot before) takes it back on some nodes.
  await nodes[to].call("CLUSTER", "BUMPEPOCH");
  await assertAgree(nodes, slot, to);
}

/** Gives `slot` back to master `owner` whatever state a failed move left it in, and checks it. */
async function restoreSlot(nodes: Redis[], slot: number, owner: number): Promise<void> {
  for (const node of nodes) await node.call("CLUSTER", "SETSLOT", slot, "STABLE");
  const holder = await ownerSeenBy(nodes[owner], slot);
  if (holder !== owner && holder >= 0) await moveSlot(nodes, slot, holder, owner);
  else {
    const ownerId = (await ids(nodes))[owner];
    for (const node of [nodes[owner], ...nodes]) {
      await node.call("CLUSTER", "SETSLOT", slot, "NODE", ownerId);
    }
    await nodes[owner].call("CLUSTER", "BUMPEPOCH");
    await assertAgree(nodes, slot, owner);
  }
}

for (const client of CLIENTS) {
  await serviceTest(
    "redisCluster",
    `RedisStore over a Redis Cluster follows ASK and MOVED while the key's slot migrates (${client})`,
    async () => {
      await withNodes(async (nodes) => {
        await withClusterStore(client, async (store) => {
          const prefix = `fluxpool-test:migrate:${crypto.randomUUID()}`;
          const limiter = new DistributedLimiter({
            store: store(),
            rate: 1,
            period: 60_000,
            burst: 5,
            prefix,
          });
          const key = `${prefix}:k`;
          const slot = Number(await nodes[0].call("CLUSTER", "KEYSLOT", key));
          const from = await ownerOf(nodes, key);
          const to = (from + 1) % nodes.length;
          // ioredis fails an ASK to a master it has not connected to yet: talk to all first.
          for (let i = 0; i < 30; i++) await limiter.peek(`warm-${i}`);
          // ... and until the key's own master answers (a peek consumes nothing).
          for (let i = 0; i < 40 && (await limiter.peek("k")).source !== "store"; i++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          assert.equal((await limiter.check("k")).remaining, 4);
          assert.equal((await limiter.check("k")).remaining, 3);
          const seen: number[] = [];
          try {
            await moveSlot(nodes, slot, from, to, async () => {
              // The old master answers ASK: the key is on the new one, with its state.
              const during = await limiter.check("k");
              assert.equal(during.source, "store", String(during.storeError));
              seen.push(during.remaining);
            });
            // The clients' slot maps are stale: the old master answers MOVED.
            const after = await limiter.check("k");
            assert.equal(after.source, "store", String(after.storeError));
            seen.push(after.remaining);
            assert.equal(await ownerOf(nodes, key), to);
            assert.equal(await nodes[to].exists(key), 1);
            assert.deepEqual(seen, [2, 1]);
          } finally {
            await restoreSlot(nodes, slot, from);
            await nodes[from].del(key).catch(() => {});
          }
          limiter.close();
        });
      });
    },
  );
}

await serviceTest(
  "redisCluster",
  "fromIoredis() on a Cluster as documented: a decision cut off on its way to a node is not replayed",
  async () => {
    const proxies = CLUSTER_PORTS.map((port) => new DelayProxy(port, 0));
    const natMap = Object.fromEntries(
      CLUSTER_PORTS.map((
        port,
        i,
      ) => [`127.0.0.1:${port}`, { host: "127.0.0.1", port: proxies[i].port }]),
    );
    const cluster = new Cluster([{ host: "127.0.0.1", port: proxies[0].port }], {
      natMap,
      ...IOREDIS_CLUSTER,
      lazyConnect: true,
    });
    cluster.on("error", () => {});
    try {
      await cluster.connect();
      const prefix = `fluxpool-test:cut:${crypto.randomUUID()}`;
      const limiter = new DistributedLimiter({
        store: new RedisStore(fromIoredis(cluster)),
        rate: 1,
        period: 60_000,
        burst: 10,
        prefix,
        timeoutMs: 100,
        storeCooldownMs: 0,
      });
      assert.equal((await limiter.check("k")).remaining, 9);
      const proxy = await withNodes(async (nodes) => proxies[await ownerOf(nodes, `${prefix}:k`)]);
      proxy.delayMs = 50;
      const pending = limiter.check("k");
      await new Promise((resolve) => setTimeout(resolve, 25));
      proxy.cut(); // the decision is still in the proxy: it never reaches Redis
      proxy.delayMs = 0;
      const cutOff = await pending;
      assert.equal(cutOff.source, "fallback");
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await limiter.peek("k", 0);
      assert.equal(after.source, "store", String(after.storeError));
      assert.equal(after.remaining, 9, "the decision answered by the fallback was not charged");
      limiter.close();
    } finally {
      await disconnectCluster(cluster, async () => {
        await Promise.all(proxies.map((proxy) => proxy.close()));
      });
    }
  },
);

Deno.test("fromIoredis() and fromNodeRedis() refuse cluster clients that resend commands", () => {
  const tail =
    "or a decision that timed out while Redis was unreachable is replayed when it is back and charges the key again";
  const nodes = [{ host: "127.0.0.1", port: CLUSTER_PORTS[0] }];
  const lazy = { lazyConnect: true } as const;
  const refusals: [() => unknown, string, string][] = [
    [() => fromIoredis(new Cluster(nodes, lazy)), "enableOfflineQueue", "false: received true"],
    [
      () => fromIoredis(new Cluster(nodes, { ...lazy, enableOfflineQueue: false })),
      "retryDelayOnFailover",
      "0: received 100",
    ],
    [
      () =>
        fromIoredis(
          new Cluster(nodes, { ...lazy, enableOfflineQueue: false, retryDelayOnFailover: 0 }),
        ),
      "retryDelayOnClusterDown",
      "0: received 100",
    ],
    [
      () =>
        fromIoredis(
          new Cluster(nodes, { ...lazy, ...IOREDIS_CLUSTER, clusterNodeRetryStrategy: () => 100 }),
        ),
      "redisOptions.autoResendUnfulfilledCommands",
      "false: received undefined",
    ],
    [
      () => fromNodeRedis(createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7001" }] })),
      "defaults.disableOfflineQueue",
      "true: received undefined",
    ],
  ];
  for (const [create, option, rule] of refusals) {
    const owner = option.startsWith("defaults") ? "fromNodeRedis()" : "fromIoredis()";
    const [safe, received] = rule.split(": ");
    assert.throws(
      create,
      new TypeError(
        `Cannot create ${owner} as the client's '${option}' must be ${safe}, ${tail}: ${received}`,
      ),
    );
  }
  fromIoredis(new Cluster(nodes, { ...lazy, ...IOREDIS_CLUSTER }));
  fromIoredis(
    new Cluster(nodes, {
      ...lazy,
      ...IOREDIS_CLUSTER,
      clusterNodeRetryStrategy: () => 100,
      redisOptions: { autoResendUnfulfilledCommands: false },
    }),
  );
  fromNodeRedis(
    createCluster({
      rootNodes: [{ url: "redis://127.0.0.1:7001" }],
      defaults: { disableOfflineQueue: true },
    }),
  );
});
