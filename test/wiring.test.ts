import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ListenError } from '../src/transport/listen-error.js';
import { listenFailure, nodeSharesPorts } from '../src/wiring.js';

describe('wiring', () => {
  it('turns a failed listen into a message naming the variable to change', () => {
    const config = loadConfig({ PORT: '8080' });
    const problem = (error: ListenError, shared = config) => listenFailure(error, shared).problems[0];
    expect(problem(new ListenError('address_in_use', '127.0.0.1', 8080))).toBe(
      'PORT=8080: 127.0.0.1:8080 is already in use by another process; choose a free PORT, or set REUSE_PORT=true on every sigcast process meant to share it',
    );
    const sharing = loadConfig({ PORT: '8080', REUSE_PORT: 'true', REDIS_URL: 'redis://h' });
    expect(problem(new ListenError('address_in_use', '127.0.0.1', 8080), sharing)).toMatch(/^PORT=8080: .* is held by a process that does not share it/);
    expect(problem(new ListenError('address_not_available', '10.1.2.3', 8080))).toBe('HOST="10.1.2.3": is not an address of this machine (cannot listen on 10.1.2.3:8080)');
    expect(problem(new ListenError('host_not_found', 'nope.invalid', 8080))).toBe('HOST="nope.invalid": does not resolve to an address (cannot listen on nope.invalid:8080)');
    expect(problem(new ListenError('permission_denied', '0.0.0.0', 80))).toMatch(/^PORT=80: not allowed to listen/);
    expect(problem(new ListenError('unknown', '127.0.0.1', 8080))).toBe('HOST="127.0.0.1", PORT=8080: cannot listen on 127.0.0.1:8080');
    // The /metrics listener names its own variables.
    const metrics = { host: 'METRICS_HOST', port: 'METRICS_PORT', shared: false };
    expect(listenFailure(new ListenError('address_in_use', '127.0.0.1', 9100), config, metrics).problems).toEqual([
      'METRICS_PORT=9100: 127.0.0.1:9100 is already in use by another process; choose a free METRICS_PORT',
    ]);
    expect(listenFailure(new ListenError('address_not_available', '10.1.2.3', 9100), config, metrics).problems[0]).toMatch(/^METRICS_HOST="10.1.2.3": /);
  });

  it('knows which Node versions share a port on node:http', () => {
    expect(nodeSharesPorts('20.20.2')).toBe(false);
    expect(nodeSharesPorts('22.11.0')).toBe(false);
    expect(nodeSharesPorts('22.12.0')).toBe(true);
    expect(nodeSharesPorts('24.1.0')).toBe(true);
  });
});
