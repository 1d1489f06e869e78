/**
 * The one fetch wrapper for every upstream call (chat, refresh, side calls). It takes an upstream
 * connection slot (./slots.ts: bounded, visible queue instead of Bun's silent one), adds the
 * proxy, a response-headers timeout, passes the caller's abort signal through, and turns network
 * failures into classified KiroErrors so callers only ever see KiroError or the caller's abort.
 * The chat stream (upstreamFetchHeld with `http`) goes through the socket client (./stream-http.ts)
 * instead of fetch when no proxy is set, with the same slot, timeout and error handling.
 */
import { classifyUpstreamError, KiroError, SYNTHETIC_REASONS } from "./errors";
import { releasingBody, type UpstreamSlots } from "./slots";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import type { ChunkBody, StreamHttpClient } from "./stream-http";

export type UpstreamFetchOptions = {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /** http(s) proxy URL (Bun fetch's `proxy` option). */
  proxy?: string;
  /** Caller's signal (client disconnect); also cancels the response body after headers arrived. */
  signal?: AbortSignal;
  /**
   * Max wait until response headers arrive. fetch cannot tell a slow connect from a slow first
   * byte, so this is one timer; its expiry is the `transient` error class, not an endpoint fallback.
   */
  timeoutMs?: number;
  source?: "chat" | "refresh" | "side";
  /** Connection slots (KiroUpstreamConfig.slots); held until the response body ends. */
  slots?: UpstreamSlots;
  /** upstreamFetchHeld only: send through this socket client instead of fetch (unless a proxy is set). */
  http?: StreamHttpClient;
};

export const DEFAULT_HEADERS_TIMEOUT_MS = 120_000;

export async function upstreamFetch(url: string, opts: UpstreamFetchOptions): Promise<Response> {
  const { res, release } = await upstreamFetchHeld(url, opts);
  if (!opts.slots) return res;
  if (!res.body) {
    release();
    return res;
  }
  return new Response(releasingBody(res.body, release), { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * As upstreamFetch, but the connection slot comes back with the response instead of riding on a
 * wrapper around its body: the caller calls `release` (idempotent) once it is done with the body.
 * The chat stream uses this: a wrapper stream costs a JavaScript pull and two promise hops per
 * network chunk, which for a paced upstream is per frame.
 */
export async function upstreamFetchHeld(url: string, opts: UpstreamFetchOptions): Promise<{ res: Response; release: () => void; chunks?: ChunkBody }> {
  // Waiting for a slot is bounded by the queue timeout, not by the headers timeout below.
  const slot = opts.slots?.acquire(opts.signal);
  const release = (slot instanceof Promise ? await slot : slot) ?? noRelease;
  try {
    if (opts.http && !opts.proxy) return { ...(await socketOnce(opts.http, url, opts)), release };
    return { res: await fetchOnce(url, opts), release };
  } catch (err) {
    release();
    throw err;
  }
}

/** Error bodies are read whole up to this size; the rest is not wanted. */
const MAX_ERROR_BODY = 1024 * 1024;

/**
 * One request through the socket client. A 200's body stays a stream (`chunks`, and `res` has no
 * body); any other answer is read whole into `res`, as fetch would hand it to classifyResponse.
 */
async function socketOnce(http: StreamHttpClient, url: string, opts: UpstreamFetchOptions): Promise<{ res: Response; chunks?: ChunkBody }> {
  const r = await withHeadersTimeout(opts, (signal) => http.request(url, { method: opts.method, headers: opts.headers, body: opts.body, signal }));
  // The socket client asks for `identity` and decodes nothing; something between us and the
  // upstream (a proxy, a gateway) may compress anyway.
  const encoding = (r.headers.get("content-encoding") ?? "").trim().toLowerCase();
  const encoded = encoding !== "" && encoding !== "identity";
  if (r.status === 200) {
    if (encoded) {
      void r.body.return?.().catch(() => {});
      throw new KiroError(
        "transient",
        `upstream answered with content-encoding "${encoding}" although kiro-server asked for none; set KIRO_UPSTREAM_HTTP=fetch to have such answers decoded`,
        { status: 200 },
      );
    }
    return { res: new Response(null, { status: 200, statusText: r.statusText, headers: r.headers }), chunks: r.body };
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const c of r.body) {
      parts.push(c.bytes.subarray(0, c.end));
      size += c.end;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // A reset while reading the error body still leaves the status to classify by.
  }
  let body = Buffer.concat(parts);
  const headers = new Headers(r.headers);
  if (encoded) {
    // An error answer is read for its message only: decoded when we can, else classified by status.
    body = decodeErrorBody(body, encoding);
    headers.delete("content-encoding");
    headers.delete("content-length");
  }
  return { res: new Response(body, { status: r.status, statusText: r.statusText, headers }) };
}

/** A compressed error body as plain bytes (gzip, deflate, br); empty when it cannot be decoded. */
function decodeErrorBody(body: Buffer, encoding: string): Buffer<ArrayBuffer> {
  try {
    if (encoding === "gzip" || encoding === "x-gzip") return Buffer.from(gunzipSync(body));
    if (encoding === "deflate") return Buffer.from(inflateSync(body));
    if (encoding === "br") return Buffer.from(brotliDecompressSync(body));
  } catch {
    // A truncated or corrupt body (it may have been cut at MAX_ERROR_BODY).
  }
  return Buffer.alloc(0);
}
const noRelease = () => {};

function fetchOnce(url: string, opts: UpstreamFetchOptions): Promise<Response> {
  return withHeadersTimeout(opts, (signal) =>
    fetch(url, {
      method: opts.method,
      headers: opts.headers,
      body: opts.body,
      signal,
      // Bun extensions: proxy per request; decompress is Bun's default, stated for clarity since
      // we advertise gzip/br on refresh calls and must get plain bytes back.
      proxy: opts.proxy,
      decompress: true,
    } as RequestInit),
  );
}

/**
 * Runs `send` with a signal that fires on the caller's abort or after the headers timeout, and turns
 * its failure into a classified KiroError (the caller's own abort passes through as it is).
 */
async function withHeadersTimeout<T>(opts: UpstreamFetchOptions, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new Error("upstream headers timeout")), timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timer.signal]) : timer.signal;
  try {
    return await send(signal);
  } catch (err) {
    // The caller gave up (client disconnected): not an upstream failure, let the abort through.
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    const via = opts.proxy ? ` via proxy ${proxyLabel(opts.proxy)}` : "";
    if (timer.signal.aborted) {
      throw new KiroError("transient", `upstream did not answer within ${timeoutMs} ms${via}`, {
        reason: SYNTHETIC_REASONS.timeout,
        cause: err,
      });
    }
    const classified = classifyUpstreamError({ networkError: err, source: opts.source });
    if (!via) throw classified;
    // A network failure behind a proxy is often the proxy's: say which one (never its userinfo).
    throw new KiroError(classified.cls, `${classified.upstreamMessage}${via}`, {
      status: classified.status,
      reason: classified.reason,
      retryAfterMs: classified.retryAfterMs,
      cause: err,
    });
  } finally {
    clearTimeout(handle);
  }
}

/** `scheme://host:port` of a proxy URL: user, password, path and query are never shown. */
export function proxyLabel(proxy: string): string {
  try {
    const u = new URL(proxy);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(unparsable proxy URL)";
  }
}

/** Read a non-200 answer and classify it (body read is bounded: error bodies are small). */
export async function classifyResponse(
  res: Response,
  source: "chat" | "refresh" | "side",
): Promise<KiroError> {
  let body = "";
  try {
    body = (await res.text()).slice(0, 64 * 1024);
  } catch {
    // A reset while reading the error body still leaves the status to classify by.
  }
  return classifyUpstreamError({ status: res.status, body, headers: res.headers, source });
}
