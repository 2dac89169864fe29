import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { channelKeys } from '../../src/broker/redis-keys.js';
import { appendArgv, appendPart } from '../../src/broker/redis-scripts.js';
import { openRedisTopology } from '../../src/broker/redis-topology.js';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';
import { signal } from './broker.case.js';

/** How the connections of one Redis are set up, against a real redis-server. */
let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

function topology() {
  const opened = openRedisTopology(
    { url: server.url, commandTimeoutMs: 1000, retryBaseMs: 20, retryMaxMs: 200, subscriberPingMs: 1000, ackedAppends: false },
    { onInPlace: () => {}, onLost: () => {}, onRestored: () => {} },
  );
  onTestFinished(() => opened.quit());
  return opened;
}

describe('one Redis', () => {
  test('an append call is written at once (the batcher made it one per turn); other commands of a turn are still auto-pipelined', async () => {
    const { command } = topology();
    if (!('sigcastAppend' in command) || command.isCluster) throw new Error('expected a connection to one Redis');
    if (command.status !== 'ready') await new Promise((resolve) => command.once('ready', resolve));
    const keys = channelKeys(`topology-${process.pid}`, 'BTCUSDT');
    const part = appendPart('BTCUSDT', 'epoch-1', [signal('written-at-once')]);
    const appended = command.sigcastAppend(4, keys.log, keys.meta, keys.ids, keys.live, ...appendArgv(Date.now(), 10, 60_000, [part]));
    expect(command.autoPipelineQueueSize).toBe(0);
    const read = command.exists(keys.meta);
    expect(command.autoPipelineQueueSize).toBe(1);
    const [reply] = (await appended) as unknown[][];
    expect(reply).toBeDefined();
    await read;
    expect(await command.llen(keys.log)).toBe(1);
  });
});
