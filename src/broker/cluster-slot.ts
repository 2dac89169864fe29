// Which of Redis Cluster's 16384 slots a key (or a sharded pub/sub channel) belongs to: CRC16
// (XMODEM) of the key, or of its hash tag, modulo 16384, exactly as Redis computes it. The sharded
// subscriber needs it to find a channel's shard and to batch SSUBSCRIBEs per slot.

export const SLOT_COUNT = 16384;

const TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[byte] = crc;
}

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc;
}

/**
 * The hashed part of a key: what lies between the first `{` and the next `}` when that is not
 * empty (the hash tag), else the whole key.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key), 'utf8')) % SLOT_COUNT;
}
