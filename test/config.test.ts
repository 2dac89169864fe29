import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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

  it('ignores unrelated environment variables', () => {
    expect(() => loadConfig({ PATH: '/bin', HOME: '/root' })).not.toThrow();
  });
});
