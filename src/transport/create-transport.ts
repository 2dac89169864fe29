import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Transport, TransportOptions } from './transport.js';
import { loadUws } from './uws-loader.js';
import { UwsTransport } from './uws-transport.js';
import { WsTransport } from './ws-transport.js';

export class TransportUnavailableError extends Error {
  override readonly name = 'TransportUnavailableError';
}

/** Picks the transport named by TRANSPORT; refuses the slow uWS emulation unless explicitly allowed. */
export function createTransport(config: Config, log: Logger, options: TransportOptions): Transport {
  if (config.TRANSPORT === 'uws') {
    const { native, reason } = loadUws();
    if (!native && !config.UWS_ALLOW_FALLBACK) {
      throw new TransportUnavailableError(
        `uWebSockets.js native binary is not in use (${reason}); sigcast refuses to run on its slow JavaScript emulation. ` +
          'Use TRANSPORT=ws for the portable transport, or UWS_ALLOW_FALLBACK=true to run on the emulation anyway.',
      );
    }
    return new UwsTransport(options, log);
  }
  return new WsTransport(options, log);
}
