/**
 * Incremental parser of server-to-client WebSocket frames (unmasked, RFC 6455). Whole messages
 * are handed out as views into the received chunk when they fit in it, so most messages cost
 * no copy; fragmented messages are reassembled.
 */
export interface FrameHandlers {
  message(data: Buffer, isBinary: boolean): void;
  ping(payload: Buffer): void;
  close(code: number, reason: string): void;
}

export class WsFrameReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Bytes needed before the next frame can be parsed (0: unknown yet). */
  private need = 0;
  private fragments: Buffer[] = [];
  private fragmentBinary = false;

  constructor(private readonly handlers: FrameHandlers) {}

  push(chunk: Buffer): void {
    if (this.pendingLength > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      // Wait for the whole frame before copying anything (large frames span many chunks).
      if (this.pendingLength < this.need) return;
      chunk = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
    }
    let offset = 0;
    const end = chunk.length;
    this.need = 0;
    while (end - offset >= 2) {
      const b0 = chunk[offset] ?? 0;
      const b1 = chunk[offset + 1] ?? 0;
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (end - offset < 4) break;
        length = chunk.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (end - offset < 10) break;
        length = chunk.readUInt32BE(offset + 2) * 2 ** 32 + chunk.readUInt32BE(offset + 6);
        header = 10;
      }
      if (b1 & 0x80) header += 4; // a masked server frame would be a protocol error; skip the key
      if (end - offset < header + length) {
        this.need = header + length;
        break;
      }
      const payload = chunk.subarray(offset + header, offset + header + length);
      offset += header + length;
      this.frame(b0, payload);
    }
    if (offset < end) {
      const rest = chunk.subarray(offset);
      // Keep a copy: the socket may reuse its buffer.
      this.pending = [Buffer.from(rest)];
      this.pendingLength = rest.length;
    }
  }

  private frame(b0: number, payload: Buffer): void {
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (opcode === 0x1 || opcode === 0x2) {
      if (fin) this.handlers.message(payload, opcode === 0x2);
      else {
        this.fragments = [Buffer.from(payload)];
        this.fragmentBinary = opcode === 0x2;
      }
    } else if (opcode === 0x0) {
      this.fragments.push(Buffer.from(payload));
      if (fin) {
        const whole = Buffer.concat(this.fragments);
        this.fragments = [];
        this.handlers.message(whole, this.fragmentBinary);
      }
    } else if (opcode === 0x9) {
      this.handlers.ping(payload);
    } else if (opcode === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.handlers.close(code, payload.subarray(2).toString('utf8'));
    }
  }
}
