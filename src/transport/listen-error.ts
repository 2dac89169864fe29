// Why a transport could not listen, found out the same way on both transports, so that the layer
// that knows the configuration can name the variable to fix (transports never see Config).
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:net';

export type ListenProblem = 'address_in_use' | 'address_not_available' | 'host_not_found' | 'permission_denied' | 'unknown';

export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly problem: ListenProblem,
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`cannot listen on ${host}:${port} (${problem.replace(/_/g, ' ')})`, options);
  }
}

/** The problem behind a node:net listen error code. */
export function listenProblemOf(code: unknown): ListenProblem {
  switch (code) {
    case 'EADDRINUSE':
      return 'address_in_use';
    case 'EADDRNOTAVAIL':
      return 'address_not_available';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'host_not_found';
    case 'EACCES':
    case 'EPERM':
      return 'permission_denied';
    default:
      return 'unknown';
  }
}

/**
 * uWS says only that listening failed. The reason is found by resolving the host and trying the
 * same bind, exclusively, with node:net (released at once): a port shared by other processes
 * (SO_REUSEPORT) is in use for it too.
 */
export async function diagnoseListenFailure(host: string, port: number): Promise<ListenProblem> {
  try {
    await lookup(host);
  } catch {
    return 'host_not_found';
  }
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(listenProblemOf(error.code)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve('unknown')));
  });
}
