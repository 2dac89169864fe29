import { randomHex } from '../util/pooled-random.js';

/** A fresh epoch id: short, unique across nodes and restarts, and sortable by creation time. */
export function newEpoch(now: number = Date.now()): string {
  return `${now.toString(36)}${randomHex(4)}`;
}
