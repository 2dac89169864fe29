// How `sigcast tail` prints an entry: one readable line (colours only on a terminal), or the
// entry as one JSON line.
import type { Entry } from '../signal/schema.js';

/** An entry as the client delivers it; `replaced` is set on conflated feeds. */
export type TailEntry = Entry & { replaced?: number; type?: string };

const SIDE_COLOURS: Record<string, string> = { BUY: '32', SELL: '31', HOLD: '90', CLOSE: '33' };

export function formatEntry(entry: TailEntry, options: { colour: boolean }): string {
  const { signal } = entry;
  const side = signal.side.padEnd(5);
  const fields = [
    new Date(signal.ts).toISOString(),
    `${entry.channel}#${entry.seq}`,
    options.colour ? `\u001b[${SIDE_COLOURS[signal.side] ?? '0'}m${side}\u001b[0m` : side,
    signal.strength.toFixed(2),
    signal.symbol,
  ];
  if (signal.price !== undefined) fields.push(`@${signal.price}`);
  if (signal.strategy !== undefined) fields.push(signal.strategy);
  if (entry.replaced !== undefined) fields.push(`(+${entry.replaced} replaced)`);
  if (signal.meta !== undefined) fields.push(JSON.stringify(signal.meta));
  return fields.join('  ');
}

/** The entry without the frame's `type`: {channel, seq, epoch, ts, signal[, replaced]}. */
export function entryJson(entry: TailEntry): string {
  const { type: _type, ...rest } = entry;
  return JSON.stringify(rest);
}
