/**
 * MINIMAL_SPLICE (bench/minimal): the floor of a byte-level conversion. Each network read is
 * parsed in one pass (both CRCs checked); a text frame (`assistantResponseEvent` whose payload is
 * `{"content":"…"}`) has its JSON string body copied into an Anthropic `text_delta` event as it
 * is, with no string made, no event object, no decoder or encoder stage; every other frame is
 * skipped. `MINIMAL_SPLICE=string` makes the same events as a string (the body decoded once with
 * Buffer#utf8Slice), to tell the cost of the bytes-to-string conversions from that of the stages.
 */
import { crc32 } from "../../../src/kiro/stream/crc32";
import type { BodyRead } from "../../../src/kiro/chunk-body";

/** Buffer#copy on any Uint8Array: copies a range without making a view of a fresh socket buffer. */
const copy = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number) => number;

const te = new TextEncoder();
const PRE_S = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"';
const POST_S = '"}}\n\n';
const PRE = te.encode(PRE_S);
const POST = te.encode(POST_S);
const CONTENT = te.encode('{"content":"');
const TEXT_EVENT = "assistantResponseEvent";
const OPEN = 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n';
const CLOSE =
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":10,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}\n\n' +
  'event: message_stop\ndata: {"type":"message_stop"}\n\n';
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (this: Uint8Array, s: number, e: number) => string }).utf8Slice;

const u32 = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

/** The `:event-type` and `:message-type` of a header block (string headers only; enough for the bench's fake). */
function isTextHeaders(b: Uint8Array, pos: number, end: number): boolean {
  let event = "";
  let kind = "event";
  while (pos < end) {
    const nameLen = b[pos++]!;
    const name = utf8Slice.call(b, pos, pos + nameLen);
    pos += nameLen;
    if (b[pos++] !== 7) return false;
    const len = (b[pos]! << 8) | b[pos + 1]!;
    pos += 2;
    const value = utf8Slice.call(b, pos, pos + len);
    pos += len;
    if (name === ":event-type") event = value;
    else if (name === ":message-type") kind = value;
  }
  return event === TEXT_EVENT && kind === "event";
}

/** One answer's relay: `start` is the message_start text; writes each read's text events at once. */
export function spliceBody(chunks: AsyncIterable<Uint8Array | BodyRead>, start: string, asString: boolean): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "direct",
    async pull(controller: ReadableStreamDirectController) {
      controller.write(start + OPEN);
      controller.flush();
      // The header block of text frames, once seen: later frames are compared with it byte for byte.
      let textBlock: Uint8Array | undefined;
      let rest: Uint8Array | undefined;
      let out = new Uint8Array(64 * 1024);
      for await (const read of chunks) {
        let b = read instanceof Uint8Array ? read : read.bytes;
        let n = read instanceof Uint8Array ? read.length : read.end;
        if (rest) {
          const joined = new Uint8Array(rest.length + n);
          joined.set(rest);
          copy.call(b, joined, rest.length, 0, n);
          b = joined;
          n = joined.length;
          rest = undefined;
        }
        let s = 0;
        let o = 0;
        let str = "";
        while (n - s >= 12) {
          const total = u32(b, s);
          const prelude = u32(b, s + 8);
          if (prelude !== crc32(b, s, s + 8)) throw new Error("prelude CRC mismatch");
          if (n - s < total) break;
          const end = s + total;
          if (u32(b, end - 4) !== crc32(b, s + 8, end - 4, prelude)) throw new Error("message CRC mismatch");
          const hs = s + 12;
          const he = hs + u32(b, s + 4);
          let text = false;
          if (textBlock && textBlock.length === he - hs) {
            let i = 0;
            while (i < textBlock.length && textBlock[i] === b[hs + i]) i++;
            text = i === textBlock.length;
          }
          if (!text && isTextHeaders(b, hs, he)) {
            textBlock = b.slice(hs, he);
            text = true;
          }
          const ps = he + CONTENT.length;
          const pe = end - 6; // before `"}` and the CRC
          if (text && pe > ps && b[pe] === 0x22 && b[pe + 1] === 0x7d) {
            let j = 0;
            while (j < CONTENT.length && b[he + j] === CONTENT[j]) j++;
            if (j === CONTENT.length) {
              if (asString) str += PRE_S + utf8Slice.call(b, ps, pe) + POST_S;
              else {
                const need = o + PRE.length + (pe - ps) + POST.length;
                if (need > out.length) {
                  const grown = new Uint8Array(need * 2);
                  grown.set(out.subarray(0, o));
                  out = grown;
                }
                out.set(PRE, o);
                o += PRE.length;
                copy.call(b, out, o, ps, pe);
                o += pe - ps;
                out.set(POST, o);
                o += POST.length;
              }
            }
          }
          s = end;
        }
        if (s < n) {
          rest = new Uint8Array(n - s);
          copy.call(b, rest, 0, s, n);
        }
        // The direct stream copies what it is given, so `out` is reused.
        if (o) controller.write(out.subarray(0, o));
        if (str) controller.write(str);
        if (o || str) controller.flush();
      }
      controller.write(CLOSE);
      controller.close();
    },
  } as unknown as UnderlyingDefaultSource<Uint8Array>);
}
