// A listener of its own for /metrics (METRICS_HOST:METRICS_PORT), so that Prometheus can scrape
// on an internal address while clients reach the main one. Plain node:http: a scrape every few
// seconds needs none of the main transport's machinery.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpHandler } from '../protocol/http.js';
import { ListenError, listenProblemOf } from '../transport/listen-error.js';
import { readHttpRequest, writeHttpResponse } from '../transport/ws-http.js';

export interface MetricsListener {
  readonly port: number;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/** Bodies a scrape may send (none): anything larger is refused; heads as small as a scrape's. */
const LIMITS = { maxBodyBytes: 1024, maxUrlBytes: 4096, maxHeaderBytes: 8192 };

/** Rejects with a ListenError when it cannot listen. */
export function listenMetrics(host: string, port: number, handler: HttpHandler): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    void readHttpRequest(req, LIMITS).then(async (parsed) => {
      if (!parsed.ok) {
        if ('response' in parsed) writeHttpResponse(res, parsed.response);
        return;
      }
      writeHttpResponse(res, await handler(parsed.request));
    });
  });
  let closing: Promise<void> | undefined;
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(listenProblemOf(error.code), host, port, { cause: error }));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          })),
      });
    });
  });
}
