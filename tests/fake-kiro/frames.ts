/**
 * Binary AWS event-stream ENCODER for the fake Kiro upstream (docs/upstream.md, Event-stream frames).
 *
 *   encodeEvent(eventType, payload)          event frame, payload = the member structure itself
 *   encodeException(type, message, extra?)   `:message-type: exception` frame (+ payload __type)
 *   encodeErrorFrame(code, message)          `:message-type: error` frame (code/message in headers)
 *   corruptCrc(frame, where?)                copy with one CRC (or payload) bit flipped
 *
 * Frames are built by @smithy's EventStreamCodec (valid prelude + message CRCs) with type-7 string
 * headers only, in the order `:event-type`|`:exception-type`, `:content-type`, `:message-type`
 * — an order that keeps decoders which assume it (some third-party proxies) working too.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import type { MessageHeaders } from "@smithy/types";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function strHeaders(h: Record<string, string>): MessageHeaders {
  const out: MessageHeaders = {};
  for (const [k, v] of Object.entries(h)) out[k] = { type: "string", value: v };
  return out;
}

export function encodeFrame(headers: Record<string, string>, body: Uint8Array): Uint8Array {
  return codec.encode({ headers: strHeaders(headers), body });
}

export function encodeEvent(eventType: string, payload: object): Uint8Array {
  return encodeFrame(
    { ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" },
    fromUtf8(JSON.stringify(payload)),
  );
}

export type ExceptionExtra = {
  reason?: string;
  /** Also put `__type` in the payload (the streaming SDK reads the header, kiro2api the payload; the fake sends both). Default true. */
  typeInPayload?: boolean;
};

export function encodeException(exceptionType: string, message: string, extra: ExceptionExtra = {}): Uint8Array {
  const payload: Record<string, unknown> = { message };
  if (extra.reason !== undefined) payload.reason = extra.reason;
  if (extra.typeInPayload ?? true) payload.__type = `com.amazon.aws.codewhisperer#${exceptionType}`;
  return encodeFrame(
    { ":exception-type": exceptionType, ":content-type": "application/json", ":message-type": "exception" },
    fromUtf8(JSON.stringify(payload)),
  );
}

export function encodeErrorFrame(code: string, message: string): Uint8Array {
  return encodeFrame({ ":error-code": code, ":error-message": message, ":message-type": "error" }, new Uint8Array(0));
}

/** Returns a copy with one bit flipped in the prelude CRC, the message CRC, or the payload. */
export function corruptCrc(frame: Uint8Array, where: "prelude" | "message" | "payload" = "message"): Uint8Array {
  const out = frame.slice();
  const at = where === "prelude" ? 8 : where === "message" ? out.length - 1 : out.length - 5;
  out[at]! ^= 0x01;
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
