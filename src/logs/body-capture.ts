import { redactText } from "./redact";

/** What a stored request body may weigh at most (the request log is for reading, not archiving). */
export const MAX_LOGGED_BODY_BYTES = 64 * 1024;

/**
 * The client's request body as stored in the request log when body logging is on: image and
 * document payloads (long base64 or data: URLs) are replaced by a size note, token-shaped secrets
 * are masked, and the JSON is cut at MAX_LOGGED_BODY_BYTES with a marker.
 */
export function captureRequestBody(body: unknown, maxBytes = MAX_LOGGED_BODY_BYTES): string {
  let json: string;
  try {
    json = JSON.stringify(body, (_k, v) => (typeof v === "string" && isBinaryPayload(v) ? `[${v.length} chars of binary data omitted]` : v), 2) ?? "";
  } catch {
    return "[request body could not be serialised]";
  }
  json = redactText(json);
  if (Buffer.byteLength(json) <= maxBytes) return json;
  return Buffer.from(json).subarray(0, maxBytes).toString("utf8").replace(/\uFFFD+$/, "") + `\n… [cut at ${maxBytes} bytes]`;
}

function isBinaryPayload(v: string): boolean {
  if (v.startsWith("data:") && v.length > 100) return true;
  return v.length > 1000 && /^[A-Za-z0-9+/=\r\n]+$/.test(v.slice(0, 1000));
}
