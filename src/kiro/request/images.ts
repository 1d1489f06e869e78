import type { ImagePart } from "../../core/canonical";
import type { KiroImageBlock, KiroImageFormat } from "./types";

/**
 * Image limits. The official client (Amazon's Q language server): ≤ 3.75 MB decoded,
 * ≤ 8000 px per side, ≤ 20 per message; Amazon Q Developer CLI: 10 per request. We keep the stricter 10 per message.
 * Declared format must match the bytes (IMAGE_MIME_MISMATCH), so the format is sniffed.
 */
export const MAX_IMAGE_BYTES = 3.75 * 1024 * 1024;
export const MAX_IMAGE_SIDE = 8000;
export const MAX_IMAGES_PER_MESSAGE = 10;

const MIME_TO_FORMAT: Record<string, KiroImageFormat> = {
  "image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp",
};

/** Format from magic bytes; undefined when none of the four supported formats. */
export function sniffImageFormat(b: Uint8Array): KiroImageFormat | undefined {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return "gif";
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
    b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return "webp";
  return undefined;
}

/** Width/height from the header, when the header is long enough to say. */
export function imageDimensions(b: Uint8Array, format: KiroImageFormat): { w: number; h: number } | undefined {
  const u16be = (i: number) => (b[i] << 8) | b[i + 1];
  const u16le = (i: number) => b[i] | (b[i + 1] << 8);
  const u32be = (i: number) => ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
  const u24le = (i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
  if (format === "png" && b.length >= 24) return { w: u32be(16), h: u32be(20) };
  if (format === "gif" && b.length >= 10) return { w: u16le(6), h: u16le(8) };
  if (format === "webp" && b.length >= 30) {
    const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
    if (chunk === "VP8X") return { w: u24le(24) + 1, h: u24le(27) + 1 };
    if (chunk === "VP8 ") return { w: u16le(26) & 0x3fff, h: u16le(28) & 0x3fff };
    if (chunk === "VP8L") {
      const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
      return { w: (bits & 0x3fff) + 1, h: ((bits >>> 14) & 0x3fff) + 1 };
    }
    return undefined;
  }
  if (format === "jpeg") {
    // Walk segments to the first SOFn marker.
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1];
      if (marker === 0xff) { i++; continue; }
      const len = u16be(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { w: u16be(i + 7), h: u16be(i + 5) };
      }
      i += 2 + len;
    }
  }
  return undefined;
}

export function base64Bytes(data: string): Uint8Array | undefined {
  const clean = data.replace(/^data:[^,]*,/, "").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined;
  try {
    return Uint8Array.from(Buffer.from(clean, "base64"));
  } catch {
    return undefined;
  }
}

export type ImageOutcome = { ok: true; block: KiroImageBlock } | { ok: false; note: string };

/** Validates one image; failures become a short text note in the message instead of a 400. */
export function toKiroImage(img: Pick<ImagePart, "mediaType" | "data">): ImageOutcome {
  const declared = MIME_TO_FORMAT[String(img.mediaType).toLowerCase()];
  const clean = String(img.data ?? "").replace(/^data:[^,]*,/, "").replace(/\s+/g, "");
  const bytes = base64Bytes(clean);
  if (!bytes || bytes.length === 0) return { ok: false, note: "[image omitted: not valid base64 data]" };
  const sniffed = sniffImageFormat(bytes);
  const format = sniffed ?? undefined;
  if (!format) {
    return { ok: false, note: `[image omitted: unsupported format${declared ? "" : ` ${img.mediaType}`}; png, jpeg, gif and webp are supported]` };
  }
  if (bytes.length > MAX_IMAGE_BYTES) {
    return { ok: false, note: `[image omitted: ${(bytes.length / 1048576).toFixed(2)} MB exceeds the 3.75 MB limit]` };
  }
  const dim = imageDimensions(bytes, format);
  if (dim && (dim.w > MAX_IMAGE_SIDE || dim.h > MAX_IMAGE_SIDE)) {
    return { ok: false, note: `[image omitted: ${dim.w}x${dim.h} px exceeds ${MAX_IMAGE_SIDE} px per side]` };
  }
  // The sniffed format wins over the declared one: the service rejects mismatches.
  return { ok: true, block: { format, source: { bytes: clean } } };
}
