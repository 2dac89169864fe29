// The signal table: entries wait in a bounded backlog and are drawn at most once per animation
// frame, newest on top, never more than `maxRows` rows. At 1,000 signals/s that is ~17 rows a
// frame, however fast they come.
import type { DeliveredEntry } from '../../clients/sigcast-client.js';
import { Backlog, FrameStats } from './backlog.js';

export interface Row {
  entry: DeliveredEntry;
  live: boolean;
}

const SIDES = new Set(['BUY', 'SELL', 'HOLD', 'CLOSE']);

export class SignalTable {
  readonly frames = new FrameStats();
  received = 0;
  rendered = 0;
  /** The largest backlog a frame found waiting. */
  maxBacklog = 0;
  private readonly backlog: Backlog<Row>;
  private readonly template: HTMLTableRowElement;
  private scheduled = false;
  private lastFrameAt = 0;

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly maxRows: number,
    /** Runs after each frame that drew (to refresh counters and stats). */
    private readonly afterFrame: () => void,
  ) {
    this.backlog = new Backlog(maxRows);
    this.template = rowTemplate(body.ownerDocument);
  }

  get backlogSize(): number {
    return this.backlog.size;
  }

  get dropped(): number {
    return this.backlog.dropped;
  }

  get rows(): number {
    return this.body.childElementCount;
  }

  push(row: Row): void {
    this.received += 1;
    this.backlog.push(row);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame((now) => this.frame(now));
    }
  }

  clear(): void {
    this.body.replaceChildren();
  }

  private frame(now: number): void {
    this.scheduled = false;
    const started = performance.now();
    this.maxBacklog = Math.max(this.maxBacklog, this.backlog.size);
    const rows = this.backlog.take();
    const fragment = this.body.ownerDocument.createDocumentFragment();
    for (let i = rows.length - 1; i >= 0; i -= 1) fragment.append(this.draw(rows[i]!));
    this.body.prepend(fragment);
    for (let excess = this.body.childElementCount - this.maxRows; excess > 0; excess -= 1) this.body.lastElementChild!.remove();
    this.rendered += rows.length;
    this.frames.record(performance.now() - started, this.lastFrameAt ? now - this.lastFrameAt : 0);
    this.lastFrameAt = now;
    this.afterFrame();
  }

  private draw({ entry, live }: Row): HTMLTableRowElement {
    const row = this.template.cloneNode(true) as HTMLTableRowElement;
    const cells = row.cells;
    const { signal } = entry;
    if (!live) row.classList.add('replayed');
    cells[0]!.textContent = clock(signal.ts);
    cells[1]!.textContent = entry.channel;
    cells[2]!.textContent = signal.symbol;
    cells[3]!.textContent = signal.side;
    cells[3]!.className = `side side-${SIDES.has(signal.side) ? signal.side.toLowerCase() : 'other'}`;
    const strength = Math.max(0, Math.min(1, signal.strength));
    (cells[4]!.firstElementChild!.firstElementChild as HTMLElement).style.width = `${Math.round(strength * 100)}%`;
    cells[4]!.lastElementChild!.textContent = strength.toFixed(2);
    cells[5]!.textContent = signal.price === undefined ? '' : String(signal.price);
    cells[6]!.textContent = signal.strategy ?? '';
    cells[7]!.textContent = String(entry.seq);
    // A conflated entry stands for the ones it replaced: the UI is showing a sample.
    cells[8]!.textContent = entry.replaced === undefined ? '' : `+${entry.replaced}`;
    return row;
  }
}

function rowTemplate(document: Document): HTMLTableRowElement {
  const row = document.createElement('tr');
  for (let i = 0; i < 9; i += 1) row.append(document.createElement('td'));
  const bar = document.createElement('span');
  bar.className = 'bar';
  bar.append(document.createElement('span'));
  const value = document.createElement('span');
  value.className = 'value';
  row.cells[4]!.className = 'strength';
  row.cells[4]!.append(bar, value);
  row.cells[5]!.className = 'num';
  row.cells[7]!.className = 'num';
  row.cells[8]!.className = 'num replaced';
  return row;
}

/** HH:MM:SS.mmm in local time (hand-made: Intl formatting costs too much at this rate). */
function clock(ts: number): string {
  const date = new Date(ts);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}
