/**
 * A fixed-capacity ring of the newest items, oldest first when read. Used for each channel's
 * recent entries so that replay to a new subscriber costs no Redis command. Its storage grows
 * with what it holds (doubling up to the capacity): a node serving many quiet channels does not
 * pay for a thousand slots each.
 */
const INITIAL_SLOTS = 8;

export class Ring<T> {
  private items: Array<T | undefined>;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be a positive integer');
    this.items = new Array<T | undefined>(Math.min(capacity, INITIAL_SLOTS));
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length && this.count < this.capacity) this.grow();
    const end = (this.start + this.count) % this.items.length;
    this.items[end] = item;
    if (this.count < this.items.length) this.count += 1;
    else this.start = (this.start + 1) % this.items.length;
  }

  /** The i-th oldest item (0 = oldest). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.items[(this.start + index) % this.items.length];
  }

  first(): T | undefined {
    return this.at(0);
  }

  /** The newest `n` items, oldest first. */
  newest(n: number): T[] {
    const take = Math.max(0, Math.min(n, this.count));
    const out: T[] = new Array<T>(take);
    for (let i = 0; i < take; i += 1) out[i] = this.at(this.count - take + i)!;
    return out;
  }

  clear(): void {
    this.items = new Array<T | undefined>(Math.min(this.capacity, INITIAL_SLOTS));
    this.start = 0;
    this.count = 0;
  }

  private grow(): void {
    const grown = new Array<T | undefined>(Math.min(this.capacity, this.items.length * 2));
    for (let i = 0; i < this.count; i += 1) grown[i] = this.at(i);
    this.items = grown;
    this.start = 0;
  }
}
