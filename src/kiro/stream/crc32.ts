/**
 * CRC32 (ISO-HDLC / zlib, reflected poly 0xEDB88320), as used by AWS event-stream frames.
 * We need it outside the smithy codec only for the 8-byte prelude: the prelude CRC must be checked
 * *before* trusting total_length, otherwise one flipped length bit makes us wait for megabytes that
 * never come instead of failing fast.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
