// The policy of a WebSocket upgrade, decided before the socket opens: Host and Origin, a
// connection slot (in total and per client address), then the credential. A refusal is an HTTP
// answer from the error catalog; an accepted socket's session acts as the principal, and its
// slot is given back when it closes (or at once if the socket never opened).
import { challengeHeaders, type AccessGate } from '../auth/gate.js';
import { rateKeyOf, type Principal } from '../auth/principal.js';
import { asSigcastError, SigcastError } from '../errors.js';
import type { ConnectionSlots } from '../limits/connection-slots.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { errorResponse, type HttpResponse } from '../protocol/http.js';
import type { CloseInfo, Connection, Session, UpgradeHandler } from '../transport/transport.js';
import type { SessionAuth } from './protocol-session.js';

export interface UpgradePolicy {
  gate: AccessGate;
  slots: ConnectionSlots;
  metrics: Metrics;
  log: Logger;
  /** Opens the session of an accepted socket. */
  open(connection: Connection, auth: SessionAuth): Session;
}

export function createUpgradeHandler(policy: UpgradePolicy): UpgradeHandler {
  const { gate, slots } = policy;
  return async (request) => {
    try {
      gate.checkOrigin(request);
      const address = gate.clientAddress(request);
      const slot = slots.acquire(address);
      if (typeof slot === 'string') throw new SigcastError(slot);
      let principal: Principal;
      try {
        principal = await gate.authenticate(request, true);
      } catch (error) {
        slot.release();
        throw error;
      }
      const auth: SessionAuth = { principal, verify: (token) => gate.verify(token, address), rateKey: (p) => rateKeyOf(p, address) };
      policy.log.debug({ principal: principal.id, address }, 'upgrade accepted');
      return {
        accept: true,
        sessions: (connection) => new SlotSession(policy.open(connection, auth), slot),
        abandon: () => slot.release(),
      };
    } catch (error) {
      // Debug only: refusals are what an attacker can produce at will, and must not flood the log.
      policy.log.debug({ code: error instanceof SigcastError ? error.code : 'internal', address: request.remoteAddress }, 'upgrade refused');
      return { accept: false, response: refusal(policy, error) };
    }
  };
}

/** A refused upgrade's answer. */
export function refusal(policy: Pick<UpgradePolicy, 'metrics' | 'log'>, error: unknown): HttpResponse {
  if (!(error instanceof SigcastError)) policy.log.error({ err: error }, 'upgrade check failed');
  const known = asSigcastError(error);
  policy.metrics.protocolErrors.inc({ code: known.code });
  return errorResponse(known, challengeHeaders(known));
}

/** A session that gives its connection slot back when it closes (a class: it lives as long as the connection). */
class SlotSession implements Session {
  constructor(
    private readonly session: Session,
    private readonly slot: { release(): void },
  ) {}

  onMessage(data: ArrayBuffer | Uint8Array, isBinary: boolean): void {
    this.session.onMessage(data, isBinary);
  }

  onClose(close: CloseInfo): void {
    this.slot.release();
    this.session.onClose(close);
  }

  onLagging(lagMs: number): boolean {
    return this.session.onLagging?.(lagMs) ?? false;
  }
}
