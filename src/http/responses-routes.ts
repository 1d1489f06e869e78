import { Elysia } from "elysia";
import type { Services } from "../services";
import type { ResolvedModel } from "../core/canonical";
import { TurnError } from "../core/errors";
import { resolveModel } from "../core/models";
import { runTurn, validModelNames, type Turn } from "../core/turn";
import { ResponsesStore } from "../db/responses-store";
import type { Decoded } from "../dialects/dialect";
import { responsesDialect } from "../dialects/responses";
import type { ResponsesExtra } from "../dialects/responses/decode";
import { deleteResponse, listInputItems, retrieveResponse } from "../dialects/responses/retrieval";
import { authenticateClient } from "./client-auth";
import { newRequestId } from "./request-id";
import { sseWriter } from "./sse-writer";

/**
 * Interim HTTP surface of the OpenAI Responses dialect (src/dialects/responses), until the one
 * generic dialect route serves it: POST /v1/responses runs the dialect through the turn runner
 * exactly as the Chat Completions route does; the stored-response routes call the dialect's
 * retrieval functions. Aliases without /v1 as on the other routes.
 */
type Ctx = { request: Request; server: { timeout(req: Request, seconds: number): void } | null };
type IdCtx = Ctx & { params: { id: string } };

const requestIdOf = (ctx: unknown) => (ctx as { requestId?: string }).requestId ?? newRequestId();

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

const unauthorized = () => new TurnError("authentication", "Incorrect API key provided. Send the kiro-server client key as 'Authorization: Bearer <key>'.");

/** Catalogue lookup in the shape the Dialect contract's resolveModel returns. */
function resolve(name: string): ResolvedModel {
  const m = resolveModel(name);
  if (!m) throw new TurnError("not_found", `model '${name}' is not available; valid models: ${validModelNames().join(", ")}`, { param: "model" });
  return { requested: name, name: m.name, upstreamId: m.kiroId, contextWindow: m.contextWindow, maxOutputTokens: m.maxOutputTokens, nativeThinking: m.nativeThinking };
}

export const responsesRoutes = (s: Services, opts: { keepAliveMs?: number } = {}) => {
  const keepAliveMs = opts.keepAliveMs ?? s.config.keepAliveMs;
  const storage = new ResponsesStore(s.db);
  const dialect = responsesDialect({
    storage,
    retentionMs: () => s.settings.runtime.responsesRetentionDays * 86_400_000,
    notice: (m) => s.log.info(m),
  });

  async function create(ctx: Ctx): Promise<Response> {
    const { request, server } = ctx;
    const requestId = requestIdOf(ctx);
    server?.timeout(request, 0);
    const clientKey = authenticateClient(s, request);
    if (!clientKey) return dialect.error(unauthorized(), requestId);
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      return dialect.error(new TurnError("invalid_request", "We could not parse the JSON body of your request.", { param: "body" }), requestId);
    }
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    request.signal.addEventListener("abort", onAbort, { once: true });
    const unlink = () => request.signal.removeEventListener("abort", onAbort);

    let d: Decoded<ResponsesExtra>;
    let turn: Turn;
    try {
      d = await dialect.decode(body, { headers: request.headers, resolveModel: resolve, clientKeyId: clientKey.id, signal: abort.signal });
      turn = await runTurn(s, d.request, { signal: abort.signal, requestId, clientKey, stream: d.stream, clientBody: body });
    } catch (err) {
      unlink();
      return dialect.error(err instanceof TurnError ? err : new TurnError("upstream", "internal error while serving the request", { status: 500, cause: err }), requestId);
    }
    const info = { requestId, model: d.request.model, inputTokens: turn.estimatedInputTokens, accountId: turn.accountId };

    if (!d.stream) {
      try {
        const json = await dialect.fold(turn.events, info, d);
        return new Response(JSON.stringify(json), { headers: { "content-type": "application/json", "x-request-id": requestId } });
      } catch (err) {
        return dialect.error(err instanceof TurnError ? err : new TurnError("upstream", "internal error while serving the request", { status: 500, cause: err }), requestId);
      } finally {
        unlink();
      }
    }
    const enc = dialect.stream(info, d);
    const sseBody = sseWriter(turn.batches, keepAliveMs, dialect.ping, {
      start: enc.start,
      frame: enc.batch,
      end: enc.end,
      fail: (err) => {
        if (abort.signal.aborted) return "";
        s.log.warn("stream failed after the 200", { requestId, error: err instanceof Error ? err.message : String(err) });
        return enc.fail(err instanceof TurnError ? err : new TurnError("upstream", err instanceof Error ? err.message : String(err)));
      },
      done: unlink,
      cancel: () => abort.abort(),
    });
    return new Response(sseBody, { headers: { ...SSE_HEADERS, "x-request-id": requestId } });
  }

  /** GET/DELETE on a stored response: authenticated, JSON, errors in the dialect's shape. */
  const stored = (fn: (id: string, keyId: string, q: URLSearchParams) => unknown) => (ctx: IdCtx): Response => {
    const requestId = requestIdOf(ctx);
    const key = authenticateClient(s, ctx.request);
    if (!key) return dialect.error(unauthorized(), requestId);
    try {
      const body = fn(decodeURIComponent(ctx.params.id), key.id, new URL(ctx.request.url).searchParams);
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json", "x-request-id": requestId } });
    } catch (err) {
      return dialect.error(err instanceof TurnError ? err : new TurnError("upstream", "internal error", { status: 500, cause: err }), requestId);
    }
  };
  const get = stored((id, k, q) => retrieveResponse(storage, id, k, q));
  const del = stored((id, k) => deleteResponse(storage, id, k));
  const items = stored((id, k, q) => listInputItems(storage, id, k, q));

  let app = new Elysia({ name: "responses-routes" });
  for (const p of dialect.paths) {
    app = app
      .post(p, create, { parse: "none" })
      .get(`${p}/:id`, get)
      .delete(`${p}/:id`, del)
      .get(`${p}/:id/input_items`, items);
  }
  return app;
};
