// Failed authentications slowed down per client address: each failure takes a token from the
// address's bucket (`burst` of them, one back per second); while it is empty, every attempt from
// that address that carries a credential is refused with 429 before it is checked. Guessing is
// held to about one try per second per address, whatever the credential.
import { KeyedBuckets } from './keyed-buckets.js';

export interface AuthThrottleOptions {
  /** Failures allowed in a row before attempts are refused. */
  burst: number;
  /** Failures forgiven per second. @default 1 */
  perSecond?: number;
  /** Addresses remembered at most (least recently failing ones are forgotten first). @default 100000 */
  maxAddresses?: number;
  now?: () => number;
}

export class AuthThrottle {
  private readonly failures: KeyedBuckets;

  constructor(options: AuthThrottleOptions) {
    this.failures = new KeyedBuckets({
      rate: options.perSecond ?? 1,
      burst: options.burst,
      maxKeys: options.maxAddresses ?? 100_000,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** 0 when `address` may try; else how long (ms) before it may try again. */
  waitFor(address: string): number {
    return this.failures.waitFor(address, 1);
  }

  failed(address: string): void {
    this.failures.take(address, 1);
  }
}
