import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hubLimits, publisherLimits, readTlsCaFile, redisBrokerOptionsFromConfig, transportOptions } from '../src/wiring.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { configProblems as problemsOf } from './support/config-problems.js';


describe('loadConfig', () => {
  it('has working defaults: port 8080 on loopback, in-memory broker, 1000 entries for 24 h', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', HISTORY_SIZE: 1000, HISTORY_TTL_SECONDS: 86_400, TRANSPORT: 'uws' });
    expect(config.REDIS_URL).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads and coerces variables, treating empty ones as unset', () => {
    const config = loadConfig({ PORT: '9000', REDIS_URL: 'rediss://user:pw@db.example:6380/2', UWS_ALLOW_FALLBACK: 'yes', HOST: '' });
    expect(config).toMatchObject({ PORT: 9000, REDIS_URL: 'rediss://user:pw@db.example:6380/2', UWS_ALLOW_FALLBACK: true, HOST: '127.0.0.1' });
  });

  it('names every bad variable with its value and what is wrong', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: '99999', REDIS_URL: 'http://x', TRANSPORT: 'tcp', HISTORY_SIZE: 'many' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('PORT="99999"');
    expect(problems).toContain('REDIS_URL="http://x": must start with redis:// or rediss://');
    expect(problems).toContain('TRANSPORT="tcp"');
    expect(problems).toContain('HISTORY_SIZE="many"');
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('accepts the documented boolean spellings only', () => {
    for (const [spelling, value] of [['true', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false]] as const) {
      expect(loadConfig({ UWS_ALLOW_FALLBACK: spelling }).UWS_ALLOW_FALLBACK, spelling).toBe(value);
    }
    expect(problemsOf({ UWS_ALLOW_FALLBACK: 'on' })).toEqual([expect.stringMatching(/^UWS_ALLOW_FALLBACK="on": /)]);
  });

  it('checks HOST at load: an IP address or a host name, named when it is neither', () => {
    for (const host of ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost', 'hub-1.internal.example']) expect(loadConfig({ HOST: host, ALLOW_ANONYMOUS: 'true' }).HOST).toBe(host);
    for (const host of ['not_a_host', 'http://example.com', 'example.com:80', '-bad.example', 'a..b']) {
      expect(problemsOf({ HOST: host }), host).toEqual([`HOST=${JSON.stringify(host)}: must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::) or a host name (letters, digits, hyphens and dots)`]);
    }
  });

  it('refuses to share a port (REUSE_PORT, WORKERS) without Redis, and WORKERS on port 0', () => {
    const separate = 'needs REDIS_URL: port sharing is refused with the embedded in-memory broker, where every process would keep a separate history';
    expect(problemsOf({ REUSE_PORT: 'true' })).toEqual([`REUSE_PORT="true": ${separate}`]);
    expect(problemsOf({ WORKERS: '4' })).toEqual([`WORKERS="4": ${separate}`]);
    expect(problemsOf({ WORKERS: '4', REDIS_URL: 'redis://h', PORT: '0' })).toEqual([expect.stringMatching(/^PORT="0": must be a fixed port with WORKERS > 1/)]);
    expect(loadConfig({ WORKERS: '4', REDIS_URL: 'redis://h', REUSE_PORT: 'yes' })).toMatchObject({ WORKERS: 4, REUSE_PORT: true });
    expect(problemsOf({ WORKERS: '0', REDIS_URL: 'redis://h' })).toEqual([expect.stringMatching(/^WORKERS="0": /)]);
  });

  it('ignores unrelated environment variables', () => {
    expect(() => loadConfig({ PATH: '/bin', HOME: '/root' })).not.toThrow();
  });
});

describe('REDIS_TLS_CA_FILE', () => {
  function tempFile(name: string, content: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'sigcast-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  it('is accepted with a rediss:// REDIS_URL (loadConfig itself reads no file)', () => {
    const config = loadConfig({ REDIS_URL: 'rediss://u:p@redis.internal:6380/0', REDIS_TLS_CA_FILE: '/etc/ssl/redis-ca.pem' });
    expect(config.REDIS_TLS_CA_FILE).toBe('/etc/ssl/redis-ca.pem');
    expect(loadConfig({ REDIS_URL: 'rediss://h', REDIS_TLS_CA_FILE: '' }).REDIS_TLS_CA_FILE).toBeUndefined();
  });

  it('needs a rediss:// REDIS_URL: a CA without TLS would be silently ignored', () => {
    const needsTls = 'REDIS_TLS_CA_FILE="/ca.pem": needs REDIS_URL to be a rediss:// (TLS) URL';
    expect(problemsOf({ REDIS_URL: 'redis://h:6379', REDIS_TLS_CA_FILE: '/ca.pem' })).toEqual([needsTls]);
    expect(problemsOf({ REDIS_TLS_CA_FILE: '/ca.pem' })).toEqual([needsTls]);
    // Reported along with other bad variables, and not on top of a bad REDIS_URL itself.
    expect(problemsOf({ PORT: 'x', REDIS_URL: 'redis://h', REDIS_TLS_CA_FILE: '/ca.pem' })).toEqual([expect.stringContaining('PORT="x"'), needsTls]);
    expect(problemsOf({ REDIS_URL: 'http://h', REDIS_TLS_CA_FILE: '/ca.pem' })).toEqual([expect.stringContaining('REDIS_URL="http://h"')]);
  });

  it('must be a readable file of PEM certificates when the broker is built, or a ConfigError names it', () => {
    const notPem = tempFile('ca.txt', 'not a certificate\n');
    const broken = tempFile('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const cases: Array<[string, RegExp]> = [
      ['/nonexistent/ca.pem', /^REDIS_TLS_CA_FILE="\/nonexistent\/ca.pem": cannot be read \(ENOENT/],
      [tmpdir(), /: cannot be read \(EISDIR/],
      [notPem, /: holds no PEM certificate/],
      [broken, /: certificate 1 is not valid/],
    ];
    for (const [path, expected] of cases) {
      const config = loadConfig({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: path });
      let error: unknown;
      try {
        redisBrokerOptionsFromConfig(config);
      } catch (caught) {
        error = caught;
      }
      expect(error, path).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems, path).toEqual([expect.stringMatching(expected)]);
      expect((error as ConfigError).problems[0]).toContain(`REDIS_TLS_CA_FILE=${JSON.stringify(path)}`);
    }
    expect(() => readTlsCaFile(notPem)).toThrow(ConfigError);
  });
});

describe('MAX_LAG_MS', () => {
  it('is 2 s by default, 100 ms to 60 s', () => {
    expect(loadConfig({}).MAX_LAG_MS).toBe(2000);
    expect(problemsOf({ MAX_LAG_MS: '99' })[0]).toMatch(/^MAX_LAG_MS="99"/);
    expect(problemsOf({ MAX_LAG_MS: '60001', HEARTBEAT_SECONDS: '480' })[0]).toMatch(/^MAX_LAG_MS="60001"/);
  });

  it('must close a lagging reader before the heartbeat could drop it as silent', () => {
    expect(loadConfig({ HEARTBEAT_SECONDS: '4', MAX_LAG_MS: '3000' }).MAX_LAG_MS).toBe(3000);
    expect(problemsOf({ HEARTBEAT_SECONDS: '4', MAX_LAG_MS: '3001' })).toEqual([
      'MAX_LAG_MS="3001": must be at most (2 x HEARTBEAT_SECONDS - 5) s, so that lag closes a reader before any heartbeat drop',
    ]);
    // A bad heartbeat is reported alone, not as a lag problem too.
    expect(problemsOf({ HEARTBEAT_SECONDS: '2', MAX_LAG_MS: '3001' })).toHaveLength(1);
  });
});

describe('REDIS_CLUSTER_NODES, REDIS_ACK_REPLICAS and REDIS_ACK_TIMEOUT_MS', () => {
  it('takes seed nodes as host:port lists or one redis[s]:// URL with several hosts', () => {
    for (const nodes of ['10.0.0.1:7000', '10.0.0.1:7000,10.0.0.2:7000,redis-3.internal:7001', '[::1]:7000,[fd00::2]:7000', 'redis://bot:s3cret@h1:7000,h2:7000', 'rediss://h1:7000/']) {
      expect(loadConfig({ REDIS_CLUSTER_NODES: nodes }).REDIS_CLUSTER_NODES, nodes).toBe(nodes);
    }
    expect(loadConfig({}).REDIS_ACK_REPLICAS).toBe(0);
    expect(loadConfig({}).REDIS_ACK_TIMEOUT_MS).toBe(1000);
  });

  it('says what is wrong with a seed list', () => {
    expect(problemsOf({ REDIS_CLUSTER_NODES: '10.0.0.1' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES="10.0.0.1": must be host:port,host:port/)]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'redis://h:7000/2' })).toEqual([expect.stringContaining('(no database path)')]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'h:7000,h:99999' })).toEqual(['REDIS_CLUSTER_NODES="h:7000,h:99999": has a port outside 1..65535']);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'http://h:7000' })).toHaveLength(1);
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together', () => {
    expect(problemsOf({ REDIS_URL: 'redis://h:6379', REDIS_CLUSTER_NODES: 'h:7000' })).toEqual([
      'REDIS_CLUSTER_NODES="h:7000": cannot be set together with REDIS_URL: give one Redis (REDIS_URL) or the seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES)',
    ]);
  });

  it('takes a TLS CA only with rediss:// nodes', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'rediss://h:7000', REDIS_TLS_CA_FILE: '/ca.pem' }).REDIS_TLS_CA_FILE).toBe('/ca.pem');
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'h:7000', REDIS_TLS_CA_FILE: '/ca.pem' })).toEqual([
      'REDIS_TLS_CA_FILE="/ca.pem": needs REDIS_CLUSTER_NODES to be rediss://... (TLS) nodes',
    ]);
  });

  it('REDIS_ACK_REPLICAS needs Redis, and WAIT must answer before the command timeout', () => {
    expect(problemsOf({ REDIS_ACK_REPLICAS: '1' })).toEqual(['REDIS_ACK_REPLICAS="1": needs REDIS_URL or REDIS_CLUSTER_NODES: the embedded in-memory broker has no replicas']);
    expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_ACK_REPLICAS: '17' })).toEqual([expect.stringContaining('REDIS_ACK_REPLICAS="17"')]);
    // Only checked when WAIT is used: a short command timeout alone is fine.
    expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_COMMAND_TIMEOUT_MS: '700' })).toEqual([]);
    expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_ACK_REPLICAS: '1', REDIS_ACK_TIMEOUT_MS: '2000' })).toEqual([
      'REDIS_ACK_TIMEOUT_MS="2000": must be below REDIS_COMMAND_TIMEOUT_MS: WAIT has to answer before the append itself times out',
    ]);
    expect(loadConfig({ REDIS_URL: 'redis://h', REDIS_ACK_REPLICAS: '2', REDIS_ACK_TIMEOUT_MS: '500' })).toMatchObject({ REDIS_ACK_REPLICAS: 2, REDIS_ACK_TIMEOUT_MS: 500 });
  });

  it('maps to the broker options: seeds, ack replicas and timeout', () => {
    const cluster = redisBrokerOptionsFromConfig(loadConfig({ REDIS_CLUSTER_NODES: 'h1:7000,h2:7000', REDIS_ACK_REPLICAS: '1', REDIS_ACK_TIMEOUT_MS: '400' }));
    expect(cluster).toMatchObject({ clusterNodes: 'h1:7000,h2:7000', ackReplicas: 1, ackTimeoutMs: 400 });
    expect(cluster.url).toBeUndefined();
    const one = redisBrokerOptionsFromConfig(loadConfig({ REDIS_URL: 'redis://h:6379' }));
    expect(one).toMatchObject({ url: 'redis://h:6379', ackReplicas: 0, ackTimeoutMs: 1000 });
    expect(one.clusterNodes).toBeUndefined();
  });
});

describe('resource limits (issue 9)', () => {
  it('have the documented defaults, and wiring hands them to the parts that enforce them', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      SEND_BUDGET_BYTES: 256 * 1024 * 1024,
      SUBSCRIBE_CONCURRENCY: 64,
      SUBSCRIBE_CONCURRENCY_PER_CONNECTION: 8,
      SUBSCRIBE_QUEUE: 100_000,
      MAX_CHANNELS: 50_000,
      MAX_CHANNELS_PER_SIGNAL: 16,
      MAX_SIGNAL_BYTES: 16_384,
      NEW_CHANNELS_PER_MINUTE: 1000,
    });
    expect(transportOptions(config).sendBudgetBytes).toBe(config.SEND_BUDGET_BYTES);
    expect(hubLimits(config)).toMatchObject({
      maxChannels: 50_000,
      replayWindowBytes: 256 * 1024,
      admission: { concurrency: 64, perConnection: 8, maxQueued: 100_000 },
    });
    expect(publisherLimits(config)).toEqual({ maxBatch: 1000, maxChannelsPerSignal: 16, maxSignalBytes: 16_384, newChannelsPerMinute: 1000 });
  });

  it('are range-checked, each with its name', () => {
    const problems = problemsOf({ MAX_CHANNELS_PER_SIGNAL: '257', MAX_SIGNAL_BYTES: '100', SUBSCRIBE_CONCURRENCY: '0', NEW_CHANNELS_PER_MINUTE: '-1' });
    expect(problems.map((problem) => problem.split('=')[0]).sort()).toEqual(['MAX_CHANNELS_PER_SIGNAL', 'MAX_SIGNAL_BYTES', 'NEW_CHANNELS_PER_MINUTE', 'SUBSCRIBE_CONCURRENCY']);
  });

  it('need SEND_BUDGET_BYTES to hold at least one full send buffer', () => {
    expect(problemsOf({ SEND_BUFFER_BYTES: String(8 * 1024 * 1024), SEND_BUDGET_BYTES: String(4 * 1024 * 1024) })).toEqual([
      'SEND_BUDGET_BYTES="4194304": must be at least SEND_BUFFER_BYTES (one socket may hold that much)',
    ]);
  });
});
