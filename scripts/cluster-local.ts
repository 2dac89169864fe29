// `npm run cluster:local`: a local Redis Cluster (3 masters, 3 replicas by default) from
// redis-server processes joined by `redis-cli --cluster create`, plus N sigcast nodes on it; prints
// how to reach them and stops everything it started on Ctrl-C (or SIGTERM). The tests and the
// benchmark start their clusters with the same code (test/support/redis-cluster.ts).
import { parseArgs } from 'node:util';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { type SigcastProcess, startSigcastProcess } from '../test/support/sigcast-process.js';

const USAGE = `usage: npm run cluster:local -- [options]
  --nodes N          sigcast nodes to start on the cluster (default 2; 0: only the cluster)
  --masters N        Redis masters (default 3)
  --replicas N       replicas per master (default 1)
  --base-port P      Redis nodes on P, P+1, ... (cluster bus on P+10000, ...); default: free ports
  --sigcast-port P   sigcast nodes on P, P+1, ...; default: free ports
  --ack-replicas N   REDIS_ACK_REPLICAS of the sigcast nodes (default 0)
  --json             print one JSON line (seeds, Redis nodes with pids, sigcast nodes) instead of text`;

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > 65535) throw new Error(`--${name} must be an integer >= ${min} (got ${value})`);
  return number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string' },
      masters: { type: 'string' },
      replicas: { type: 'string' },
      'base-port': { type: 'string' },
      'sigcast-port': { type: 'string' },
      'ack-replicas': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const nodeCount = count('nodes', values.nodes, 2, 0);
  const masters = count('masters', values.masters, 3, 3);
  const replicas = count('replicas', values.replicas, 1, 0);
  const basePort = values['base-port'] === undefined ? undefined : count('base-port', values['base-port'], 0, 1);
  const sigcastPort = values['sigcast-port'] === undefined ? undefined : count('sigcast-port', values['sigcast-port'], 0, 1);
  const ackReplicas = count('ack-replicas', values['ack-replicas'], 0, 0);

  const say = (line: string): void => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };
  say(`starting a Redis Cluster: ${masters} masters, ${replicas} replica(s) each ...`);
  const cluster = await startRedisCluster({ masters, replicasPerMaster: replicas, nodeTimeoutMs: 2000, ...(basePort === undefined ? {} : { basePort }) });
  const nodes: SigcastProcess[] = [];
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      say('stopping ...');
      await Promise.all(nodes.map((node) => node.stop()));
      await cluster.stop();
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    for (let i = 0; i < nodeCount; i++) {
      const env = { NODE_ID: `local-${i}`, REDIS_CLUSTER_NODES: cluster.seeds, REDIS_ACK_REPLICAS: String(ackReplicas) };
      nodes.push(await startSigcastProcess(env, sigcastPort === undefined ? 0 : sigcastPort + i));
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    await stop(1);
  }

  const view = await cluster.view();
  if (values.json) {
    const redisNodes = cluster.nodes.map((node) => ({ address: node.address, pid: node.pid, role: view.find((v) => v.address === node.address)?.flags.has('master') ? 'master' : 'replica' }));
    const sigcast = nodes.map((node) => ({ name: node.name, pid: node.child.pid, http: node.baseUrl, ws: node.wsUrl }));
    process.stdout.write(`${JSON.stringify({ redisClusterNodes: cluster.seeds, redis: redisNodes, sigcast })}\n`);
  } else {
    say('');
    say('Redis Cluster (cluster-node-timeout 2 s):');
    for (const node of view.sort((a, b) => a.address.localeCompare(b.address))) {
      const master = view.find((other) => other.id === node.masterId);
      const role = node.flags.has('master') ? `master of slots ${node.slots.map(([from, to]) => `${from}-${to}`).join(',')}` : `replica of ${master?.address ?? '?'}`;
      say(`  ${node.address}  ${role}`);
    }
    say('');
    say(`  REDIS_CLUSTER_NODES=${cluster.seeds}`);
    say(`  redis-cli -c -p ${cluster.nodes[0]?.port}       # a shell on the cluster`);
    say('');
    if (nodes.length > 0) {
      say(`sigcast nodes (REDIS_ACK_REPLICAS=${ackReplicas}):`);
      for (const node of nodes) say(`  ${node.name}  ${node.baseUrl}  ${node.wsUrl}`);
      const first = nodes[0]!;
      say('');
      say(`  curl -s ${first.baseUrl}/v1/signals -H 'content-type: application/json' -d '{"symbol":"BTCUSDT","side":"BUY","strength":0.8}'`);
      say(`  curl -s '${(nodes[1] ?? first).baseUrl}/v1/channels/BTCUSDT/history?last=10'`);
      say('');
    }
    say('Ctrl-C stops everything.');
  }
  // Stay up; a node that dies on its own is said once.
  for (const node of nodes) {
    const timer = setInterval(() => {
      if (node.running || stopping) return;
      clearInterval(timer);
      process.stderr.write(`sigcast node ${node.name} exited:\n${node.output().split('\n').slice(-20).join('\n')}\n`);
    }, 1000);
  }
  setInterval(() => {}, 60_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
