// Picks a transport; refuses the slow uWS emulation unless explicitly allowed.
import type { Logger } from '../log.js';
import type { Transport, TransportOptions } from './transport.js';
import { loadUws } from './uws-loader.js';
import { UwsTransport } from './uws-transport.js';
import { WsTransport } from './ws-transport.js';

export interface TransportChoice {
  kind: 'uws' | 'ws';
  /** Run uWS on its JavaScript emulation when its native binary cannot load (debugging only). */
  allowUwsFallback: boolean;
}

export class TransportUnavailableError extends Error {
  override readonly name = 'TransportUnavailableError';
}

export function createTransport(choice: TransportChoice, options: TransportOptions, log: Logger): Transport {
  if (choice.kind === 'uws') {
    const { native, reason } = loadUws();
    if (!native && !choice.allowUwsFallback) {
      throw new TransportUnavailableError(
        `uWebSockets.js native binary is not in use (${reason}); sigcast refuses to run on its slow JavaScript emulation. ` +
          'Use TRANSPORT=ws for the portable transport, or UWS_ALLOW_FALLBACK=true to run on the emulation anyway.',
      );
    }
    return new UwsTransport(options, log);
  }
  return new WsTransport(options, log);
}
