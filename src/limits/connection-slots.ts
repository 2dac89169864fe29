// WebSocket connections counted in total and per client address. A slot is taken when an
// upgrade is accepted (before the socket opens, so a burst of upgrades cannot overshoot) and
// given back exactly once: when the socket closes, or when the upgrade never completed.
// Memory: one map entry per address with an open connection.

export interface ConnectionSlotsOptions {
  /** Most open connections on this node. */
  maxTotal: number;
  /** Most open connections from one address; 0: no per-address limit. */
  maxPerAddress: number;
}

export type SlotRefusal = 'at_capacity' | 'too_many_connections';

export interface Slot {
  /** Gives the slot back; safe to call more than once. */
  release(): void;
}

export class ConnectionSlots {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly options: ConnectionSlotsOptions) {}

  acquire(address: string): Slot | SlotRefusal {
    if (this.total >= this.options.maxTotal) return 'at_capacity';
    const held = this.perAddress.get(address) ?? 0;
    if (this.options.maxPerAddress > 0 && held >= this.options.maxPerAddress) return 'too_many_connections';
    this.total += 1;
    this.perAddress.set(address, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left === 0) this.perAddress.delete(address);
        else this.perAddress.set(address, left);
      },
    };
  }

  get open(): number {
    return this.total;
  }

  heldBy(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Addresses with at least one open connection (the memory this holds). */
  get addresses(): number {
    return this.perAddress.size;
  }
}
