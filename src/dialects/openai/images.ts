import type { ImageMediaType, ImagePart } from "../../core/canonical";
import { invalidParam } from "./errors";

/**
 * `image_url` parts → canonical base64 images. Only data URLs are accepted. http(s) URLs are
 * rejected with a 400, the same policy as the Anthropic side: fetching client-chosen URLs from the
 * server opens an SSRF hole (internal addresses, redirects, DNS rebinding), and the upstream only
 * takes inline bytes. Format checks against the bytes (and size/pixel limits) happen in the Kiro
 * request builder.
 */
const MEDIA: Record<string, ImageMediaType> = {
  "image/png": "image/png", "image/jpeg": "image/jpeg", "image/jpg": "image/jpeg", "image/gif": "image/gif", "image/webp": "image/webp",
};

export function imageFromUrl(url: string, param: string): ImagePart {
  const data = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url.trim());
  if (data) {
    const media = MEDIA[data[1]!.toLowerCase()];
    if (!media) throw invalidParam(param, `Unsupported image type ${data[1]}; use image/png, image/jpeg, image/gif or image/webp.`);
    if (!/;base64/i.test(data[2]!)) throw invalidParam(param, "Image data URLs must be base64-encoded (data:image/png;base64,...).");
    return { type: "image", mediaType: media, data: data[3]!.replace(/\s+/g, "") };
  }
  if (/^https?:\/\//i.test(url)) {
    throw invalidParam(param, "Image URLs are not fetched by this server; send the image inline as a data URL (data:image/png;base64,...).");
  }
  throw invalidParam(param, "image_url.url must be a data:image/...;base64 URL.");
}
