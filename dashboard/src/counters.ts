// What the page tells a test (or a curious operator in the browser console) about itself, on
// window.__sigcast. No DOM types here, so a Node test can import the shape.
import type { FrameStats } from './backlog.js';
import type { ConflationState, ConnectionState } from './feed.js';
import type { ChannelSnapshot } from './stats.js';

export interface PageCounters {
  /** Entries the page received (replayed and live). */
  received: number;
  /** Entries drawn as rows. */
  rendered: number;
  /** Entries pushed out by newer ones before a frame could draw them (only in bursts over the row limit). */
  dropped: number;
  /** Entries waiting for the next frame now. */
  backlog: number;
  /** The largest backlog a frame found. */
  maxBacklog: number;
  /** Rows in the table (at most the row limit). */
  rows: number;
  frames: ReturnType<FrameStats['summary']>;
  connection: ConnectionState;
  conflation: ConflationState;
  channels: ChannelSnapshot[];
  problems: string[];
}
