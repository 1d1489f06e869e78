/**
 * CRC32 (ISO-HDLC / zlib, reflected poly 0xEDB88320), as used by AWS event-stream frames.
 * Both frame CRCs are checked here: the 8-byte prelude CRC *before* trusting total_length
 * (otherwise one flipped length bit makes us wait for megabytes that never come instead of
 * failing fast), and the message CRC continued from it.
 *
 * Slicing-by-8 in JavaScript, on the bytes where they are. Bun's native Bun.hash.crc32 is faster
 * over a whole array, but it takes no range, and the range's `subarray` is what costs: the first
 * view of a buffer fresh from the socket makes JavaScriptCore give it an ArrayBuffer of its own.
 * Measured on this machine (Bun 1.4.5) per 158-byte message CRC of a socket read: subarray +
 * native 0.38–0.63 µs, this 0.16 µs; from memory, 148 bytes: native + subarray 0.08 µs, this 0.11.
 * Ranges of NATIVE_FROM bytes or more (a large tool-call frame) go to the native call, where the
 * view is a small part of the work.
 */

const native = (globalThis as { Bun?: { hash?: { crc32?: (data: Uint8Array, seed?: number) => number } } }).Bun?.hash?.crc32;
const NATIVE_FROM = 1024;

/** TABLE[k * 256 + n]: the CRC of byte n followed by k zero bytes. */
const TABLE = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC32 of bytes[start, end); pass a previous result as `seed` to continue it over more bytes. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  if (native && end - start >= NATIVE_FROM) return native(bytes.subarray(start, end), seed) >>> 0;
  const t = TABLE;
  let c = ~seed;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
