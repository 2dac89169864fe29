import { createServer, type Server } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { pino } from 'pino';
import { diagnoseListenFailure, ListenError, listenProblemOf } from '../../src/transport/listen-error.js';
import { UwsTransport } from '../../src/transport/uws-transport.js';
import { WsTransport } from '../../src/transport/ws-transport.js';
import type { TransportHandlers, TransportOptions } from '../../src/transport/transport.js';

const options: TransportOptions = { wsPath: '/v1/ws', maxBodyBytes: 1 << 20, maxUrlBytes: 4096, maxHeaderBytes: 8192, maxFrameBytes: 1 << 18, sendBufferBytes: 1 << 22, sendBudgetBytes: 1 << 28, heartbeatSeconds: 16, maxLagMs: 2000, reusePort: false };
const handlers: TransportHandlers = { http: async () => ({ status: 200, body: '' }), sessions: () => ({ onMessage: () => {}, onClose: () => {} }) };
const log = pino({ level: 'silent' });

async function taken(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

describe('why listening failed', () => {
  it('maps node:net error codes', () => {
    expect(listenProblemOf('EADDRINUSE')).toBe('address_in_use');
    expect(listenProblemOf('EADDRNOTAVAIL')).toBe('address_not_available');
    expect(listenProblemOf('ENOTFOUND')).toBe('host_not_found');
    expect(listenProblemOf('EACCES')).toBe('permission_denied');
    expect(listenProblemOf(undefined)).toBe('unknown');
  });

  it('finds the reason uWS does not give, by trying the same bind', async () => {
    expect(await diagnoseListenFailure('127.0.0.1', await taken())).toBe('address_in_use');
    expect(await diagnoseListenFailure('192.0.2.1', 0)).toBe('address_not_available');
    expect(await diagnoseListenFailure('no-such-host.invalid', 0)).toBe('host_not_found');
    expect(await diagnoseListenFailure('127.0.0.1', 0)).toBe('unknown'); // it can listen: no reason found
  });

  for (const Transport of [UwsTransport, WsTransport]) {
    it(`${Transport.name} refuses a taken port by default, with a ListenError`, async () => {
      const port = await taken();
      const transport = new Transport(options, log);
      onTestFinished(() => transport.close(0));
      const failure = await transport.listen('127.0.0.1', port, handlers).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ListenError);
      expect(failure).toMatchObject({ problem: 'address_in_use', host: '127.0.0.1', port });
    });
  }
});
