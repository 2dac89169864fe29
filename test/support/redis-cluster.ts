// A Redis Cluster for tests, the benchmark and `npm run cluster:local`: redis-server processes
// (redis-process.ts) on free loopback ports with cluster mode on, joined by
// `redis-cli --cluster create --cluster-replicas N`. Nodes can be killed, restarted and asked who
// owns which slot; every wait is bounded.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { GuardedConnector } from '../../src/broker/guarded-connector.js';
import { type ClusterNodeView, fullyServed, parseClusterNodes, slotOwners } from './cluster-nodes.js';
import { freePort, type RedisProcess, startRedisProcess } from './redis-process.js';

const REDIS_CLI = existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
const HEALTHY_TIMEOUT_MS = 60_000;

export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** @default 1 */
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a silent master takes to be failed over. @default 1000 */
  nodeTimeoutMs?: number;
  /** appendonly with fsync always on every node. @default false */
  persistence?: boolean;
  /** Extra redis-server arguments for every node. */
  args?: string[];
  /** Node i listens on basePort + i and its cluster bus on basePort + 10000 + i (default: free ports). */
  basePort?: number;
}

export interface ClusterNode extends RedisProcess {
  /** 127.0.0.1:<port>, as the cluster announces it. */
  readonly address: string;
  /** False between kill()/stop() and restart(). */
  readonly running: boolean;
}

export interface RedisClusterHandle {
  readonly nodes: readonly ClusterNode[];
  /** Every node as host:port,host:port,... (REDIS_CLUSTER_NODES). */
  readonly seeds: string;
  /** What a running node believes about the cluster. */
  view(): Promise<ClusterNodeView[]>;
  /** The node that is master of `slot` now. */
  ownerOf(slot: number): Promise<ClusterNode>;
  /** Current masters (running and serving slots). */
  masters(): Promise<ClusterNode[]>;
  /** A plain connection to one node for assertions; the caller disconnects it. */
  client(node: ClusterNode, options?: RedisOptions): Redis;
  /**
   * Resolves once every running node says cluster_state:ok, they all agree on the master of every
   * slot, no slot is on a failed master and every running replica is in sync with its master.
   */
  waitForHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node (safe to call twice). */
  stop(): Promise<void>;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const nodes = await Promise.all(Array.from({ length: masters * (1 + replicas) }, (_, i) => startClusterNode(options, options.basePort === undefined ? undefined : options.basePort + i)));
  const cluster = new Cluster(nodes);
  try {
    // redis-cli makes the first `masters` addresses masters and spreads the rest over them.
    await promisify(execFile)(REDIS_CLI, ['--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: HEALTHY_TIMEOUT_MS });
    await cluster.waitForHealthy();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

async function startClusterNode(options: RedisClusterOptions, port: number | undefined): Promise<ClusterNode> {
  const persistence = options.persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  for (let attempt = 1; ; attempt++) {
    // The bus port is chosen too: a free port's + 10000 may be out of range or taken.
    const busPort = port === undefined ? await freePort() : port + 10_000;
    const args = [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf',
      '--cluster-port', String(busPort),
      '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
      // A master down stops only its own slots, not the whole cluster.
      '--cluster-require-full-coverage', 'no',
      // A replica takes over however long it was away from its master.
      '--cluster-replica-validity-factor', '0',
      ...persistence,
      ...(options.args ?? []),
    ];
    try {
      return trackRunning(await startRedisProcess({ args, ...(port === undefined ? {} : { port }) }));
    } catch (error) {
      if (attempt >= 5 || port !== undefined) throw error;
    }
  }
}

function trackRunning(server: RedisProcess): ClusterNode {
  let running = true;
  return {
    port: server.port,
    dir: server.dir,
    address: `127.0.0.1:${server.port}`,
    get running() {
      return running;
    },
    get pid() {
      return server.pid;
    },
    stop: async () => {
      running = false;
      await server.stop();
    },
    kill: async () => {
      running = false;
      await server.kill();
    },
    restart: async () => {
      await server.restart();
      running = true;
    },
    pause: () => server.pause(),
    resume: () => server.resume(),
  };
}

class Cluster implements RedisClusterHandle {
  readonly seeds: string;

  constructor(readonly nodes: readonly ClusterNode[]) {
    this.seeds = nodes.map((node) => node.address).join(',');
  }

  client(node: ClusterNode, options: RedisOptions = {}): Redis {
    const client = new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: 1, Connector: GuardedConnector, ...options });
    client.on('error', () => {}); // reconnect noise while a test has the node down
    return client;
  }

  async view(): Promise<ClusterNodeView[]> {
    for (const node of this.nodes.filter((n) => n.running)) {
      try {
        return await this.viewOf(node);
      } catch {
        // try the next running node
      }
    }
    throw new Error('no running cluster node answers CLUSTER NODES');
  }

  async ownerOf(slot: number): Promise<ClusterNode> {
    const owner = slotOwners(await this.view())[slot];
    const node = this.nodes.find((n) => n.address === owner);
    if (!node) throw new Error(`slot ${slot} has no known master`);
    return node;
  }

  async masters(): Promise<ClusterNode[]> {
    const owners = new Set(slotOwners(await this.view()));
    return this.nodes.filter((node) => node.running && owners.has(node.address));
  }

  async waitForHealthy(timeoutMs = HEALTHY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let problem = 'not checked yet';
    for (;;) {
      problem = await this.unhealthyBecause().catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
      if (problem === '') return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster did not become healthy within ${timeoutMs} ms: ${problem}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  /** '' when healthy, else what is wrong. */
  private async unhealthyBecause(): Promise<string> {
    const running = this.nodes.filter((node) => node.running);
    let reference: string | undefined;
    for (const node of running) {
      const client = this.client(node, { retryStrategy: () => null, lazyConnect: true });
      try {
        await client.connect();
        const info = String(await client.cluster('INFO'));
        if (!/^cluster_state:ok\r?$/m.test(info)) return `${node.address} reports cluster_state not ok`;
        const view = parseClusterNodes(String(await client.cluster('NODES')));
        if (!fullyServed(view)) return `${node.address} sees slots without a live master`;
        const owners = slotOwners(view).join(',');
        if (reference === undefined) reference = owners;
        else if (owners !== reference) return `${node.address} disagrees on slot owners`;
        const replication = String(await client.info('replication'));
        if (/^role:slave\r?$/m.test(replication)) {
          if (!/^master_link_status:up\r?$/m.test(replication)) return `replica ${node.address} is not linked to its master`;
          if (/^master_sync_in_progress:1\r?$/m.test(replication)) return `replica ${node.address} is still syncing`;
        }
      } finally {
        client.disconnect();
      }
    }
    return '';
  }

  private async viewOf(node: ClusterNode): Promise<ClusterNodeView[]> {
    const client = this.client(node, { retryStrategy: () => null, lazyConnect: true });
    try {
      await client.connect();
      return parseClusterNodes(String(await client.cluster('NODES')));
    } finally {
      client.disconnect();
    }
  }
}

/** Node id of a running node (CLUSTER MYID). */
export async function nodeId(cluster: RedisClusterHandle, node: ClusterNode): Promise<string> {
  const client = cluster.client(node);
  try {
    return String(await client.cluster('MYID'));
  } finally {
    client.disconnect();
  }
}

/**
 * Reshards one slot to another master the way redis-cli does: IMPORTING on the target,
 * MIGRATING on the source, MIGRATE every key, then SETSLOT NODE on both and on every master.
 */
export async function moveSlot(cluster: RedisClusterHandle, slot: number, to: ClusterNode): Promise<void> {
  const from = await cluster.ownerOf(slot);
  if (from === to) return;
  const [fromId, toId] = await Promise.all([nodeId(cluster, from), nodeId(cluster, to)]);
  const source = cluster.client(from);
  const target = cluster.client(to);
  try {
    await target.cluster('SETSLOT', slot, 'IMPORTING', fromId);
    await source.cluster('SETSLOT', slot, 'MIGRATING', toId);
    for (;;) {
      const keys = (await source.cluster('GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await source.migrate('127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys);
    }
    await target.cluster('SETSLOT', slot, 'NODE', toId);
    await source.cluster('SETSLOT', slot, 'NODE', toId);
    for (const master of await cluster.masters()) {
      if (master === from || master === to) continue;
      const client = cluster.client(master);
      await client.cluster('SETSLOT', slot, 'NODE', toId).finally(() => client.disconnect());
    }
  } finally {
    source.disconnect();
    target.disconnect();
  }
}
