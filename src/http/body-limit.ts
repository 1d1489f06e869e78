/**
 * The request-body size limit (KIRO_MAX_BODY_MB), answered in the client's own error shape before
 * anything is parsed:
 *  - a declared Content-Length over the limit is refused in onRequest (bodyLimitHook, registered by
 *    each dialect route for its own paths with its own error shape), before routing or reading;
 *  - a body without Content-Length (chunked) is read by readBodyText, which refuses as soon as
 *    the limit is passed, so at most the limit plus one network chunk is ever held.
 * In both cases the rest of the body is read and thrown away before the answer: a client still
 * writing its body when the server answers and closes gets EPIPE/ECONNRESET instead of the 413
 * (measured with Node's fetch: one of two 3 MB requests failed with EPIPE). Discarding holds no
 * memory and is bounded by serverBodyBackstop.
 * Bun's own `maxRequestBodySize` answers a bare 413 with no body (measured: "HTTP/1.1 413 Request
 * Entity Too Large" and nothing else), so src/server.ts sets it to serverBodyBackstop and it only
 * acts for bodies far over the limit (and for routes that are not a dialect's).
 */
import { TurnError } from "../core/errors";
import { newRequestId } from "./request-id";

const MB = 1024 * 1024;

export function maxBodyBytes(maxBodyMb: number): number {
  return Math.floor(maxBodyMb * MB);
}

/** Bun's hard cap: far enough above ours that every declared size over ours reaches our answer. */
export function serverBodyBackstop(maxBodyMb: number): number {
  return Math.max(4 * maxBodyBytes(maxBodyMb), maxBodyBytes(maxBodyMb) + 64 * MB);
}

function tooLarge(size: number | undefined, limit: number): TurnError {
  const what = size === undefined ? "request body is larger than" : `request body is ${(size / MB).toFixed(1)} MB, over`;
  return new TurnError("invalid_request", `${what} this server's limit of ${(limit / MB).toFixed(0)} MB (KIRO_MAX_BODY_MB)`, { status: 413, param: "body" });
}

/** Reads and drops what is left of a body, up to `upTo` more bytes (then gives up and cancels). */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, upTo: number): Promise<void> {
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > upTo) break;
    }
  } catch {
    return; // the client went away: nothing left to answer
  }
  await reader.cancel().catch(() => {});
}

/** A POST path as a dialect lists it, matched with or without a trailing slash. */
function servedPath(paths: readonly string[]): (pathname: string) => boolean {
  const set = new Set(paths.map((p) => p.replace(/\/+$/, "")));
  return (pathname) => set.has(pathname.replace(/\/+$/, ""));
}

/**
 * Elysia onRequest hook for the POST `paths` of one dialect: a declared Content-Length over the
 * limit gets `answer` (the dialect's error shape) before the body is read or parsed. Returns
 * undefined to let every other request through. onRequest hooks run for every request of the app,
 * whichever plugin registers them, hence the path check.
 */
export function bodyLimitHook(maxBodyMb: number, paths: readonly string[], answer: (err: TurnError, requestId: string) => Response) {
  const limit = maxBodyBytes(maxBodyMb);
  const backstop = serverBodyBackstop(maxBodyMb);
  const served = servedPath(paths);
  return async ({ request }: { request: Request }): Promise<Response | undefined> => {
    const declared = request.headers.get("content-length");
    if (declared === null || request.method !== "POST") return undefined;
    const size = Number(declared);
    if (!Number.isFinite(size) || size <= limit) return undefined;
    if (!served(new URL(request.url).pathname)) return undefined;
    const requestId = request.headers.get("x-request-id")?.slice(0, 64) || newRequestId();
    if (request.body) await discard(request.body.getReader(), backstop);
    return answer(tooLarge(size, limit), requestId);
  };
}

/**
 * The body as text (invalid UTF-8 becomes U+FFFD, as Request.text() does), refusing more than
 * `maxBytes` with a 413 TurnError. A declared size is checked first (the rest of the body is
 * drained); otherwise the stream is read chunk by chunk and cancelled as soon as it passes the limit.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    if (request.body) await discard(request.body.getReader(), 3 * maxBytes);
    throw tooLarge(Number(declared), maxBytes);
  }
  if (declared !== null || !request.body) return request.text();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      chunks.length = 0;
      await discard(reader, 3 * maxBytes);
      throw tooLarge(undefined, maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, total));
}
