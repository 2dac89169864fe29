// Subscribes are admitted at a bounded rate, so that a storm of them degrades to slower subscribes
// instead of Redis timeouts for everyone and a stalled ingest. A subscribe holds a node-wide slot
// while its channel syncs (SUBSCRIBE and a history read when the channel is cold) and a slot of its
// connection until its replay is written (paced by the socket's drain). The rest wait, in order per
// connection and taking turns between connections, so one connection's thousand subscribes do not
// hold back another's one. Past `maxQueued` waiting subscribes a new one is refused (`overloaded`).
import { SigcastError } from '../errors.js';

export interface AdmissionOptions {
  /** Subscribes syncing at once, node-wide (SUBSCRIBE_CONCURRENCY). */
  concurrency: number;
  /** Subscribes of one connection syncing or replaying at once (SUBSCRIBE_CONCURRENCY_PER_CONNECTION). */
  perOwner: number;
  /** Subscribes waiting, node-wide (SUBSCRIBE_QUEUE). */
  maxQueued: number;
}

/** One admitted (or waiting) subscribe. Each release is idempotent. */
export interface Ticket {
  /** The channel is synced: the node-wide slot is free again. */
  synced(): void;
  /** The subscribe is over (joined, failed or abandoned): every slot it held is free. */
  done(): void;
}

interface Owner {
  readonly key: object;
  running: number;
  waiting: WaitingTicket[];
  inTurn: boolean;
}

class WaitingTicket implements Ticket {
  state: 'waiting' | 'syncing' | 'replaying' | 'done' = 'waiting';

  constructor(
    readonly owner: Owner,
    readonly run: (ticket: Ticket) => void,
    private readonly admission: Admission,
  ) {}

  synced(): void {
    if (this.state !== 'syncing') return;
    this.state = 'replaying';
    this.admission.releaseNodeSlot();
  }

  done(): void {
    const previous = this.state;
    if (previous === 'done') return;
    this.state = 'done';
    this.admission.finished(this, previous);
  }
}

export class Admission {
  private syncing = 0;
  private queued = 0;
  private readonly owners = new Map<object, Owner>();
  /** Owners with a waiting ticket and a free slot of their own, in turn order. */
  private turn: Owner[] = [];
  private turnHead = 0;
  private pumping = false;

  constructor(private readonly options: AdmissionOptions) {}

  /** Subscribes waiting for a slot, node-wide. */
  get waiting(): number {
    return this.queued;
  }

  /** Subscribes holding a node-wide slot. */
  get running(): number {
    return this.syncing;
  }

  /**
   * Runs `run` once a slot is free (maybe at once); `done()` of the returned ticket before then
   * abandons it. Throws SigcastError('overloaded') when the queue is full.
   */
  admit(owner: object, run: (ticket: Ticket) => void): Ticket {
    if (this.queued >= this.options.maxQueued) {
      throw new SigcastError('overloaded', `${this.queued} subscribes are waiting on this node; retry later`);
    }
    let state = this.owners.get(owner);
    if (!state) this.owners.set(owner, (state = { key: owner, running: 0, waiting: [], inTurn: false }));
    const ticket = new WaitingTicket(state, run, this);
    state.waiting.push(ticket);
    this.queued += 1;
    this.offerTurn(state);
    this.pump();
    return ticket;
  }

  releaseNodeSlot(): void {
    this.syncing -= 1;
    this.pump();
  }

  finished(ticket: WaitingTicket, previous: WaitingTicket['state']): void {
    const owner = ticket.owner;
    if (previous === 'waiting') {
      owner.waiting.splice(owner.waiting.indexOf(ticket), 1);
      this.queued -= 1;
    } else {
      owner.running -= 1;
      if (previous === 'syncing') this.syncing -= 1;
      this.offerTurn(owner);
    }
    if (owner.running === 0 && owner.waiting.length === 0 && this.owners.get(owner.key) === owner) this.owners.delete(owner.key);
    this.pump();
  }

  private offerTurn(owner: Owner): void {
    if (owner.inTurn || owner.waiting.length === 0 || owner.running >= this.options.perOwner) return;
    owner.inTurn = true;
    this.turn.push(owner);
  }

  /** Starts waiting tickets while slots are free, one per owner per turn. */
  private pump(): void {
    // A ticket's run may finish it at once (a warm channel), which pumps again: loop here instead.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.syncing < this.options.concurrency && this.turnHead < this.turn.length) {
        const owner = this.turn[this.turnHead++]!;
        owner.inTurn = false;
        const ticket = owner.waiting.shift();
        if (!ticket) continue;
        this.queued -= 1;
        owner.running += 1;
        this.syncing += 1;
        ticket.state = 'syncing';
        this.offerTurn(owner);
        ticket.run(ticket);
      }
      if (this.turnHead > 1024 && this.turnHead * 2 > this.turn.length) {
        this.turn = this.turn.slice(this.turnHead);
        this.turnHead = 0;
      }
    } finally {
      this.pumping = false;
    }
  }
}
