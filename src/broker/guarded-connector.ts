import { createRequire } from 'node:module';
import type { AbstractConnector } from 'ioredis';
import type { ErrorEmitter } from 'ioredis/built/connectors/AbstractConnector.js';
import type { NetStream } from 'ioredis/built/types.js';

/**
 * ioredis listens for its socket's first 'error' only (`stream.once('error')`); a second error on
 * the same socket (seen with TLS alerts while a connection is torn down) has no listener and would
 * crash the process. This connector keeps one listener on every socket for its whole life; ioredis
 * still handles the first error (and reconnects), later ones are harmless.
 */
interface Connector extends AbstractConnector {
  connect(emit: ErrorEmitter): Promise<NetStream>;
}

// ioredis exports its standalone connector only as a CommonJS default of its build folder.
const require = createRequire(import.meta.url);
const { default: StandaloneConnector } = require('ioredis/built/connectors/StandaloneConnector.js') as {
  default: new (options: unknown) => Connector;
};

export class GuardedConnector extends StandaloneConnector {
  override async connect(emit: ErrorEmitter): Promise<NetStream> {
    const stream = await super.connect(emit);
    stream.on('error', ignoreLaterErrors);
    return stream;
  }
}

function ignoreLaterErrors(): void {
  // ioredis has already been told of the connection's failure through its own listener.
}
