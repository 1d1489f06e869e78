/**
 * Incremental AWS event-stream frame reader (kiro-upstream.md §6.2).
 *
 * Network chunks split frames anywhere (inside the prelude, a header, a UTF-8 sequence) or pack
 * several frames together; this class owns the buffering. Parsing + both CRC checks of a complete
 * frame are delegated to the maintained @smithy codec (same code the official SDK runs), so our
 * only hand-written part is "how many bytes make a frame".
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { KiroError } from "../errors";
import { crc32 } from "./crc32";

export const MIN_FRAME = 16;
/** KRS MAX_MESSAGE_SIZE: a larger length is corruption, not a real frame. */
export const MAX_FRAME = 16 * 1024 * 1024;

export type DecodedFrame = {
  /** Header values as strings (the upstream only sends type-7 strings; others are stringified). */
  headers: Record<string, string>;
  payload: Uint8Array;
};

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export class FrameReader {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  /** Frames decoded so far (for error messages and the bench). */
  frames = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      // Compact first; grow only when the live bytes + chunk do not fit. Safe because callers
      // consume every complete frame (and copy what they keep) before pushing again.
      if (live + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(this.buf.length * 2, live + chunk.length));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Next complete frame, or null when more bytes are needed. Throws KiroError on corruption. */
  next(): DecodedFrame | null {
    const avail = this.end - this.start;
    if (avail < 12) return null;
    const b = this.buf;
    const s = this.start;
    const view = new DataView(b.buffer, b.byteOffset + s, 12);
    const total = view.getUint32(0, false);
    if (view.getUint32(8, false) !== crc32(b, s, s + 8)) {
      throw new KiroError("transient", `upstream event stream: prelude CRC mismatch (frame ${this.frames})`);
    }
    if (total < MIN_FRAME || total > MAX_FRAME || view.getUint32(4, false) > total - MIN_FRAME) {
      throw new KiroError("transient", `upstream event stream: invalid frame length ${total}`);
    }
    if (avail < total) return null;
    let msg;
    try {
      msg = codec.decode(b.subarray(s, s + total));
    } catch (e) {
      // The codec verifies the message CRC (and re-verifies the prelude) and header syntax.
      throw new KiroError("transient", `upstream event stream: ${(e as Error).message} (frame ${this.frames})`, { cause: e });
    }
    this.start += total;
    if (this.start === this.end) this.start = this.end = 0;
    this.frames++;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.headers)) {
      headers[k] = typeof v.value === "string" ? v.value : String(v.value);
    }
    return { headers, payload: msg.body };
  }

  /** Bytes of an incomplete frame still buffered (non-zero at EOF = truncated stream). */
  get pending(): number {
    return this.end - this.start;
  }
}
