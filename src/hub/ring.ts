/**
 * A fixed-capacity ring of the newest items, oldest first when read. Used for each channel's
 * recent entries so that replay to a new subscriber costs no Redis command.
 */
export class Ring<T> {
  private readonly items: Array<T | undefined>;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be a positive integer');
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    const end = (this.start + this.count) % this.capacity;
    this.items[end] = item;
    if (this.count < this.capacity) this.count += 1;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The i-th oldest item (0 = oldest). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.items[(this.start + index) % this.capacity];
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
    this.items.fill(undefined);
    this.start = 0;
    this.count = 0;
  }
}
