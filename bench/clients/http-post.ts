import { Agent, request } from 'node:http';

/** Keep-alive HTTP POST for HTTP publishers (one agent per publisher, sockets reused). */
export interface HttpAnswer {
  status: number;
  body: string;
}

export function createPoster(baseUrl: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  return {
    post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<HttpAnswer> {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            path,
            method: 'POST',
            headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
            timeout: 15_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('HTTP request timed out')));
        req.on('error', reject);
        req.end(body);
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}
