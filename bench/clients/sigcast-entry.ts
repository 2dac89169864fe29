import { KEY, KeyFinder, keyAt, NAMES, numberAt, stringEnd, type KnownName } from './fields.js';

/**
 * Reads channel, seq and send time of a sigcast `entry` frame from its bytes, JSON or msgpack,
 * without decoding the frame: the frames of a stream share their layout, so each field is looked
 * for where the previous frame had it first. Anything that is not an entry frame returns false
 * (and is decoded fully by the caller). One reader per connection (it remembers the layout).
 */
const JSON_ENTRY = Buffer.from('{"type":"entry",');
const JSON_ENTRIES = Buffer.from('{"type":"entries","channel":"');

// msgpack (src/protocol/encoding.ts): a map whose first pair is "type": "entry"; keys are fixstr.
const fixstr = (text: string): Buffer => Buffer.concat([Buffer.from([0xa0 | text.length]), Buffer.from(text)]);
const MSGPACK_TYPE_ENTRY = Buffer.concat([fixstr('type'), fixstr('entry')]);
const MP = { channel: fixstr('channel'), seq: fixstr('seq'), epoch: fixstr('epoch'), sent: fixstr('sent') } as const;

export class EntryReader {
  channel = '';
  seq = 0;
  sent = 0;
  private data: Buffer | undefined;
  /** The few channels of this connection, checked before the shared cache. */
  private readonly recent: KnownName[] = [];
  private readonly json = { channel: new KeyFinder(KEY.channel), seq: new KeyFinder(KEY.seq), sent: new KeyFinder(KEY.sent), epoch: new KeyFinder(KEY.epoch) };
  /** Where the previous `entries` frame had its first seq key, and the distances within and between its entries. */
  private firstSeqAt = -1;
  private seqToSent = 0;
  private seqToNext = 0;
  private readonly msgpack = { channel: new KeyFinder(MP.channel), seq: new KeyFinder(MP.seq), sent: new KeyFinder(MP.sent), epoch: new KeyFinder(MP.epoch) };

  /** True for an entry frame, whose fields are then set. */
  read(data: Buffer, binary: boolean): boolean {
    this.data = data;
    return binary ? this.readMsgpack(data) : this.readJson(data);
  }

  /** The epoch of the frame last read (only needed now and then: not read unless asked). */
  epoch(binary: boolean): string {
    const data = this.data;
    if (!data) return '';
    if (!binary) {
      const at = this.json.epoch.find(data);
      return at < 0 ? '' : NAMES.get(data, at, stringEnd(data, at));
    }
    const at = this.msgpack.epoch.find(data);
    const bounds = at < 0 ? undefined : msgpackString(data, at);
    return bounds ? data.toString('utf8', bounds[0], bounds[1]) : '';
  }

  /**
   * An `entries` frame in JSON (a subscription with `batch`): calls `each` with the seq and send
   * time of every entry, in order, and returns true; false for anything else (msgpack included:
   * the caller decodes it). The channel is the frame's.
   */
  readEntries(data: Buffer, binary: boolean, each: (seq: number, sent: number) => void): boolean {
    if (binary || !keyAt(data, JSON_ENTRIES, 0)) return false;
    this.data = data;
    const channelEnd = stringEnd(data, JSON_ENTRIES.length);
    this.channel = this.name(data, JSON_ENTRIES.length, channelEnd);
    // The entries of a batch share their layout: each key is looked for where the previous
    // entry's distance puts it, and searched for only when it is not there.
    let from = channelEnd;
    let seqKey = this.firstSeqAt;
    for (;;) {
      if (!keyAt(data, KEY.seq, seqKey)) {
        seqKey = data.indexOf(KEY.seq, from);
        if (seqKey < 0) return true;
      }
      let sentKey = seqKey + this.seqToSent;
      if (!keyAt(data, KEY.sent, sentKey)) {
        sentKey = data.indexOf(KEY.sent, seqKey);
        if (sentKey < 0) return true;
        this.seqToSent = sentKey - seqKey;
      }
      each(numberAt(data, seqKey + KEY.seq.length), numberAt(data, sentKey + KEY.sent.length));
      if (from === channelEnd) this.firstSeqAt = seqKey;
      from = sentKey + KEY.sent.length;
      const next = seqKey + this.seqToNext;
      if (this.seqToNext > 0 && keyAt(data, KEY.seq, next)) seqKey = next;
      else {
        const found = data.indexOf(KEY.seq, from);
        if (found < 0) return true;
        this.seqToNext = found - seqKey;
        seqKey = found;
      }
    }
  }

  private name(data: Buffer, start: number, end: number): string {
    for (const known of this.recent) if (known.bytes.length === end - start && keyAt(data, known.bytes, start)) return known.name;
    const known = NAMES.known(data, start, end);
    if (this.recent.length >= 6) this.recent.shift();
    this.recent.push(known);
    return known.name;
  }

  private readJson(data: Buffer): boolean {
    if (!keyAt(data, JSON_ENTRY, 0) && data.indexOf(KEY.typeEntry) < 0) return false;
    const channelAt = this.json.channel.find(data, JSON_ENTRY.length);
    if (channelAt < 0) return false;
    const channelEnd = stringEnd(data, channelAt);
    this.channel = this.name(data, channelAt, channelEnd);
    // `","seq":` right after the channel, as sigcast writes it.
    const seqAt = this.json.seq.find(data, channelEnd + 2);
    const sentAt = this.json.sent.find(data);
    this.seq = seqAt < 0 ? Number.NaN : numberAt(data, seqAt);
    this.sent = sentAt < 0 ? Number.NaN : numberAt(data, sentAt);
    return true;
  }

  private readMsgpack(data: Buffer): boolean {
    const first = data[0] ?? 0;
    // fixmap, map16 or map32 header, then "type": "entry".
    const header = first >= 0x80 && first <= 0x8f ? 1 : first === 0xde ? 3 : first === 0xdf ? 5 : -1;
    if (header < 0 || !keyAt(data, MSGPACK_TYPE_ENTRY, header)) return false;
    const channelAt = this.msgpack.channel.find(data, header + MSGPACK_TYPE_ENTRY.length);
    const channel = channelAt < 0 ? undefined : msgpackString(data, channelAt);
    if (!channel) return false;
    this.channel = this.name(data, channel[0], channel[1]);
    const seqAt = this.msgpack.seq.find(data, channel[1]);
    const sentAt = this.msgpack.sent.find(data);
    this.seq = seqAt < 0 ? Number.NaN : msgpackNumber(data, seqAt);
    this.sent = sentAt < 0 ? Number.NaN : msgpackNumber(data, sentAt);
    return true;
  }
}

/** [start, end) of the msgpack string at `at`, or undefined when there is none. */
export function msgpackString(data: Buffer, at: number): [number, number] | undefined {
  const b = data[at];
  if (b === undefined) return undefined;
  let start: number;
  let length: number;
  if (b >= 0xa0 && b <= 0xbf) [start, length] = [at + 1, b & 0x1f];
  else if (b === 0xd9) [start, length] = [at + 2, data[at + 1] ?? 0];
  else if (b === 0xda) [start, length] = [at + 3, data.readUInt16BE(at + 1)];
  else if (b === 0xdb) [start, length] = [at + 5, data.readUInt32BE(at + 1)];
  else return undefined;
  return start + length <= data.length ? [start, start + length] : undefined;
}

/** The msgpack number (integer or float) at `at`; NaN for anything else. */
export function msgpackNumber(data: Buffer, at: number): number {
  const b = data[at];
  if (b === undefined) return Number.NaN;
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return b - 0x100;
  switch (b) {
    case 0xcb:
      return data.readDoubleBE(at + 1);
    case 0xca:
      return data.readFloatBE(at + 1);
    case 0xcc:
      return data[at + 1] ?? Number.NaN;
    case 0xcd:
      return data.readUInt16BE(at + 1);
    case 0xce:
      return data.readUInt32BE(at + 1);
    case 0xcf:
      return data.readUInt32BE(at + 1) * 2 ** 32 + data.readUInt32BE(at + 5);
    case 0xd0:
      return data.readInt8(at + 1);
    case 0xd1:
      return data.readInt16BE(at + 1);
    case 0xd2:
      return data.readInt32BE(at + 1);
    case 0xd3:
      return data.readInt32BE(at + 1) * 2 ** 32 + data.readUInt32BE(at + 5);
    default:
      return Number.NaN;
  }
}
