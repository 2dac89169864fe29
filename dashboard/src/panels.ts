// The small panels around the table: connection state, per-channel stats, problems, the watched
// channels and the conflation status. Each one redraws from a value; none keeps state of its own
// except the problem list, which is bounded.
import type { ConflationState, ConnectionState } from './feed.js';
import type { ChannelSnapshot } from './stats.js';

export function renderConnection(pill: HTMLElement, detail: HTMLElement, state: ConnectionState): void {
  pill.className = `pill ${state.status}`;
  pill.textContent = state.status === 'live' ? 'live' : state.status === 'connecting' ? 'connecting…' : 'reconnecting…';
  const parts: string[] = [];
  if (state.status === 'live' && state.node) parts.push(`node ${state.node}`);
  if (state.status === 'reconnecting' && state.retryInMs !== undefined) parts.push(`next attempt in ${(state.retryInMs / 1000).toFixed(1)} s`);
  if (state.lastClose) parts.push(`last close ${state.lastClose}`);
  parts.push(`${state.reconnects} reconnect${state.reconnects === 1 ? '' : 's'}`);
  detail.textContent = parts.join(' · ');
}

export function renderStats(body: HTMLTableSectionElement, snapshots: readonly ChannelSnapshot[]): void {
  const rows = snapshots.map((snapshot) => {
    const row = body.ownerDocument.createElement('tr');
    const cells = [
      snapshot.channel,
      snapshot.rate.toFixed(snapshot.rate < 10 ? 1 : 0),
      snapshot.latencyMs === undefined ? '–' : `${Math.round(snapshot.latencyMs)} ms`,
      snapshot.maxLatencyMs === undefined ? '–' : `${Math.round(snapshot.maxLatencyMs)} ms`,
      String(snapshot.lastSeq),
      String(snapshot.total),
      snapshot.replaced ? String(snapshot.replaced) : '',
    ];
    for (const [index, text] of cells.entries()) {
      const cell = row.insertCell();
      cell.textContent = text;
      if (index > 0) cell.className = 'num';
    }
    return row;
  });
  body.replaceChildren(...rows);
}

export function renderChannels(container: HTMLElement, channels: readonly string[], remove: (channel: string) => void): void {
  container.replaceChildren(
    ...channels.map((channel) => {
      const chip = container.ownerDocument.createElement('span');
      chip.className = 'chip';
      chip.textContent = channel;
      const button = container.ownerDocument.createElement('button');
      button.type = 'button';
      button.title = `stop watching ${channel}`;
      button.textContent = '×';
      button.addEventListener('click', () => remove(channel));
      chip.append(button);
      return chip;
    }),
  );
}

export function renderConflation(status: HTMLElement, state: ConflationState): void {
  status.className = state.refusal ? 'status refused' : 'status';
  status.textContent = state.refusal
    ? 'refused by the server: showing every signal'
    : state.requestedMs > 0
      ? `newest per ${state.requestedMs} ms (asked)`
      : 'every signal';
}

/** The last few problems, newest first, with the time they happened. */
export class Problems {
  readonly messages: string[] = [];

  constructor(
    private readonly list: HTMLElement,
    private readonly keep = 6,
  ) {}

  add(message: string): void {
    this.messages.unshift(`${new Date().toLocaleTimeString()} ${message}`);
    this.messages.length = Math.min(this.messages.length, this.keep);
    this.render();
  }

  clear(): void {
    this.messages.length = 0;
    this.render();
  }

  private render(): void {
    this.list.hidden = this.messages.length === 0;
    const items = this.messages.map((message) => {
      const item = this.list.ownerDocument.createElement('li');
      item.textContent = message;
      return item;
    });
    this.list.querySelector('ul')!.replaceChildren(...items);
  }
}
