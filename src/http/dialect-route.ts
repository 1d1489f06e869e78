/**
 * The one HTTP path every dialect is served by:
 *
 *   authenticate → read body → dialect.decode (model resolved here, once) → run the turn
 *     → dialect.fold → one JSON body            (body's `stream` false)
 *     → dialect.stream → SSE via sseWriter      (keep-alive after a quiet period, error frame)
 *
 * Every failure before the 200 is answered with dialect.error (the dialect's status and shape),
 * a body over KIRO_MAX_BODY_MB included (./body-limit.ts).
 * One AbortController per request: the client going away (request.signal) or cancelling the
 * stream aborts the turn and its upstream call.
 *
 * The dialect's further routes (`dialect.routes`, e.g. GET /v1/responses/:id) and its token count
 * (`dialect.count`, e.g. POST /v1/messages/count_tokens) are served here too: the same key check,
 * a JSON 200, every failure through dialect.error. A count runs in slices
 * (InputTokenEstimator.estimateAsync): a megabyte prompt never stalls other requests.
 */
import { Elysia } from "elysia";
import type { Server } from "bun";
import { TurnError } from "../core/errors";
import type { Decoded, DecodeContext, Dialect, DialectCount, DialectRoute, TurnInfo } from "../dialects/dialect";
import type { Services } from "../services";
import { recordRefused } from "../turn/record";
import { runTurn } from "../turn/run";
import { bodyLimitHook, maxBodyBytes, readBodyText } from "./body-limit";
import { authenticateClient } from "./client-auth";
import { requestContext } from "./context";
import type { IdleTrim } from "./idle-trim";
import { sseWriter } from "./sse-writer";

export type DialectRouteOptions = {
  /** Silence after which the dialect's keep-alive text is written on a stream (ms). */
  keepAliveMs: number;
  /** Told when each request starts and ends (its body included), to trim memory once idle. */
  idle?: IdleTrim;
};

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TurnError("invalid_request", "request body is not valid JSON");
  }
}

/** Any thrown value as a TurnError; an unexpected one is logged and becomes a 500 without internals. */
export function asTurnError(s: Pick<Services, "log">, err: unknown, requestId: string): TurnError {
  if (err instanceof TurnError) return err;
  s.log.error("request failed unexpectedly", { requestId, error: err instanceof Error ? err.message : String(err) });
  return new TurnError("upstream", `internal error; see the server log for request ${requestId}`, { status: 500, cause: err });
}

export function dialectRoute<X>(s: Services, dialect: Dialect<X>, opts: DialectRouteOptions) {
  async function serve(request: Request, server: Server<unknown> | null, requestId: string): Promise<Response> {
    // Bun's idle timeout (Elysia: 30 s) would cut both quiet streams and slow non-stream replies.
    server?.timeout(request, 0);
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    request.signal.addEventListener("abort", onAbort, { once: true });
    opts.idle?.begin();
    // Called exactly once: when the body is finished (stream) or the response is built.
    const unlink = () => {
      request.signal.removeEventListener("abort", onAbort);
      opts.idle?.end();
    };
    let streaming = false;
    try {
      const clientKey = authenticateClient(s, request);
      if (!clientKey) throw new TurnError("authentication", dialect.unauthorizedMessage ?? "invalid client key for this server");
      const body = (dialect.parse ?? parseJson)(await readBodyText(request, maxBodyBytes(s.config.maxBodyMb)));

      // A model the catalogue refuses is recorded like a failed turn (request log, metrics).
      let refused: { name: string; err: unknown } | undefined;
      const ctx: DecodeContext = {
        headers: request.headers,
        clientKeyId: clientKey.id,
        signal: abort.signal,
        resolveModel(name) {
          try {
            return s.models.resolve(name);
          } catch (err) {
            refused = { name, err };
            throw err;
          }
        },
      };
      let decoded: Decoded<X>;
      try {
        decoded = await dialect.decode(body, ctx);
      } catch (err) {
        if (refused && err === refused.err && err instanceof TurnError) {
          const stream = (body as { stream?: unknown } | null)?.stream === true;
          recordRefused(s, { dialect: dialect.name, model: refused.name }, { signal: abort.signal, requestId, clientKey, stream, clientBody: body }, err);
        }
        throw err;
      }

      const turn = await runTurn(s, decoded.request, { signal: abort.signal, requestId, clientKey, stream: decoded.stream, clientBody: body });
      const info: TurnInfo = {
        requestId,
        model: turn.model,
        inputTokens: s.calibration.calibrated(decoded.request.model.upstreamId, turn.estimatedInputTokens),
        accountId: turn.accountId,
      };
      const extra = dialect.headers?.(requestId) ?? {};

      if (!decoded.stream) {
        const value = await dialect.fold(turn.events, info, decoded);
        return new Response(JSON.stringify(value), { headers: { "content-type": "application/json", ...extra, "x-request-id": requestId } });
      }

      const enc = dialect.stream(info, decoded);
      const sse = sseWriter(turn.batches, opts.keepAliveMs, dialect.ping, {
        start: () => enc.start(),
        frame: (batch) => enc.batch(batch),
        end: () => enc.end(),
        fail: (err) => {
          // The client is gone: nobody reads an error frame.
          if (abort.signal.aborted) return "";
          const te = asTurnError(s, err, requestId);
          s.log.warn("stream failed after the 200", { requestId, error: te.message });
          return enc.fail(te);
        },
        done: unlink,
        cancel: () => abort.abort(),
      });
      streaming = true;
      return new Response(sse, { headers: { ...SSE_HEADERS, ...extra, "x-request-id": requestId } });
    } catch (err) {
      return dialect.error(asTurnError(s, err, requestId), requestId);
    } finally {
      if (!streaming) unlink();
    }
  }

  async function serveCount(count: DialectCount, request: Request, requestId: string): Promise<Response> {
    try {
      const clientKey = authenticateClient(s, request);
      if (!clientKey) throw new TurnError("authentication", dialect.unauthorizedMessage ?? "invalid client key for this server");
      const body = (dialect.parse ?? parseJson)(await readBodyText(request, maxBodyBytes(s.config.maxBodyMb)));
      const ctx: DecodeContext = { headers: request.headers, clientKeyId: clientKey.id, signal: request.signal, resolveModel: (name) => s.models.resolve(name) };
      const { prompt, model } = await count.decode(body, ctx);
      const estimate = await s.tokens.estimateAsync(prompt);
      const value = count.reply(model ? s.calibration.calibrated(model.upstreamId, estimate) : estimate);
      const extra = dialect.headers?.(requestId) ?? {};
      return new Response(JSON.stringify(value), { headers: { "content-type": "application/json", ...extra, "x-request-id": requestId } });
    } catch (err) {
      return dialect.error(asTurnError(s, err, requestId), requestId);
    }
  }

  async function serveRoute(route: DialectRoute, request: Request, requestId: string, params: Record<string, string>): Promise<Response> {
    try {
      const clientKey = authenticateClient(s, request);
      if (!clientKey) throw new TurnError("authentication", dialect.unauthorizedMessage ?? "invalid client key for this server");
      const value = await route.handle({ params, query: new URL(request.url).searchParams, clientKeyId: clientKey.id, signal: request.signal });
      const extra = dialect.headers?.(requestId) ?? {};
      return new Response(JSON.stringify(value), { headers: { "content-type": "application/json", ...extra, "x-request-id": requestId } });
    } catch (err) {
      return dialect.error(asTurnError(s, err, requestId), requestId);
    }
  }

  // parse: "none" — the body is read here, so a malformed one gets the dialect's own 400, and an
  // oversized one its own 413 (declared sizes before routing, chunked ones while they arrive).
  const count = dialect.count;
  const plugin = new Elysia({ name: `dialect-${dialect.name}` })
    .onRequest(bodyLimitHook(s.config.maxBodyMb, [...dialect.paths, ...(count?.paths ?? [])], (err, requestId) => dialect.error(err, requestId)))
    .use(requestContext());
  for (const path of dialect.paths) {
    plugin.post(path, ({ request, server, requestId }) => serve(request, server, requestId), { parse: "none" });
  }
  for (const path of count?.paths ?? []) {
    plugin.post(path, ({ request, requestId }) => serveCount(count!, request, requestId), { parse: "none" });
  }
  for (const route of dialect.routes ?? []) {
    const handler = ({ request, requestId, params }: { request: Request; requestId: string; params: Record<string, string> }) =>
      serveRoute(route, request, requestId, params);
    if (route.method === "GET") plugin.get(route.path, handler);
    else plugin.delete(route.path, handler);
  }
  return plugin;
}
