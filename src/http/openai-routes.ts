import { Elysia } from "elysia";
import type { Services } from "../services";
import { TurnError } from "../core/errors";
import { runTurn, type Turn } from "../core/turn";
import { authenticateClient } from "./client-auth";
import { newRequestId } from "./request-id";
import { decodeChatRequest, type DecodedChat } from "../dialects/openai/decode";
import { encodeChatCompletion } from "../dialects/openai/encode-json";
import { sseWriter } from "./sse-writer";
import { maxBodyBytes, readBodyText } from "./body-limit";
import { ChatStreamEncoder, errorChunk, sseData, SSE_DONE, SSE_PING } from "../dialects/openai/encode-stream";
import { openaiErrorResponse } from "../dialects/openai/errors";
import { findModel, modelList } from "../dialects/openai/models";
import { servableNamePredicate } from "../core/models";
import { newCompletionId } from "../dialects/openai/shared";

/**
 * OpenAI Chat Completions and the shared model list (api-conformance §1, §2.7):
 *   POST /v1/chat/completions (alias /chat/completions)  JSON or SSE by the body's `stream`
 *   GET  /v1/models, /v1/models/{id} (aliases /models…)  OpenAI/Anthropic superset objects
 * Every failure before the 200 is a real HTTP error in OpenAI shape (SDKs retry on status);
 * after the 200 of a stream it is one `data: {"error":…}` event, then the end (no [DONE]).
 */
export type OpenAIRouteOptions = {
  /** Silence after which an SSE comment keeps the stream alive (ms). */
  keepAliveMs?: number;
};

type Ctx = { request: Request; server: { timeout(req: Request, seconds: number): void } | null };

const requestIdOf = (ctx: unknown) => (ctx as { requestId?: string }).requestId ?? newRequestId();

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

export const openaiRoutes = (s: Services, opts: OpenAIRouteOptions = {}) => {
  const keepAliveMs = opts.keepAliveMs ?? s.config.keepAliveMs;

  async function chat(ctx: Ctx): Promise<Response> {
    const { request, server } = ctx;
    const requestId = requestIdOf(ctx);
    // Bun's idle timeout (Elysia: 30 s) would cut both quiet streams and slow non-stream replies.
    server?.timeout(request, 0);
    const clientKey = authenticateClient(s, request);
    if (!clientKey) return openaiErrorResponse(unauthorized(), requestId);

    let body: unknown;
    try {
      body = JSON.parse(await readBodyText(request, maxBodyBytes(s.config.maxBodyMb)));
    } catch (err) {
      if (err instanceof TurnError) return openaiErrorResponse(err, requestId);
      return openaiErrorResponse(new TurnError("invalid_request", "We could not parse the JSON body of your request.", { param: "body" }), requestId);
    }

    // Client disconnect (request.signal) or stream cancel aborts the upstream call.
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    request.signal.addEventListener("abort", onAbort, { once: true });
    const unlink = () => request.signal.removeEventListener("abort", onAbort);

    let turn: Turn;
    let decoded: DecodedChat;
    try {
      decoded = decodeChatRequest(body, { conversationId: request.headers.get("x-conversation-id")?.slice(0, 200) || undefined });
      turn = await runTurn(s, decoded.request, { signal: abort.signal, requestId, clientKey, stream: decoded.stream, clientBody: body });
    } catch (err) {
      unlink();
      return openaiErrorResponse(err, requestId);
    }
    const meta = { id: newCompletionId(), created: Math.floor(Date.now() / 1000), model: decoded.request.model };

    if (!decoded.stream) {
      try {
        const completion = await encodeChatCompletion(turn.events, { ...meta, responseFormat: decoded.responseFormat, legacyFunctions: decoded.legacyFunctions });
        return new Response(JSON.stringify(completion), { headers: { "content-type": "application/json", "x-request-id": requestId } });
      } catch (err) {
        return openaiErrorResponse(err, requestId);
      } finally {
        unlink();
      }
    }

    const encoder = new ChatStreamEncoder({
      ...meta,
      includeUsage: decoded.includeUsage,
      responseFormat: decoded.responseFormat,
      legacyFunctions: decoded.legacyFunctions,
    });
    const sseBody = sseWriter(turn.batches, keepAliveMs, SSE_PING, {
      frame: (batch) => {
        let str = "";
        for (const e of batch) str += encoder.sse(e);
        return str;
      },
      end: () => {
        let tail = "";
        for (const c of encoder.end()) tail += sseData(c);
        return tail + SSE_DONE;
      },
      fail: (err) => {
        if (abort.signal.aborted) return "";
        s.log.warn("stream failed after the 200", { requestId, error: err instanceof Error ? err.message : String(err) });
        return sseData(errorChunk(err));
      },
      done: unlink,
      cancel: () => abort.abort(),
    });
    return new Response(sseBody, { headers: { ...SSE_HEADERS, "x-request-id": requestId } });
  }

  function models(ctx: Ctx): Response {
    const requestId = requestIdOf(ctx);
    if (!authenticateClient(s, ctx.request)) return modelsError(ctx.request, unauthorized(), requestId);
    return json(modelList(servableNamePredicate(s.pool.servableModelIds())), requestId);
  }

  function model(ctx: Ctx & { params: { id: string } }): Response {
    const requestId = requestIdOf(ctx);
    if (!authenticateClient(s, ctx.request)) return modelsError(ctx.request, unauthorized(), requestId);
    const id = decodeURIComponent(ctx.params.id);
    const m = findModel(id);
    if (!m) return modelsError(ctx.request, new TurnError("not_found", `The model \`${id}\` does not exist or you do not have access to it.`, { param: "model" }), requestId);
    return json(m, requestId);
  }

  return new Elysia({ name: "openai-routes" })
    .post("/v1/chat/completions", chat as never, { parse: "none" })
    .post("/chat/completions", chat as never, { parse: "none" })
    .get("/v1/models", models as never)
    .get("/models", models as never)
    .get("/v1/models/:id", model as never)
    .get("/models/:id", model as never);
};

function unauthorized(): TurnError {
  return new TurnError("authentication", "Incorrect API key provided. Send the kiro-server client key as 'Authorization: Bearer <key>'.");
}

function json(v: unknown, requestId: string): Response {
  return new Response(JSON.stringify(v), { headers: { "content-type": "application/json", "x-request-id": requestId } });
}

/** /v1/models is shared: Anthropic clients (anthropic-version header) get Anthropic-shaped errors. */
function modelsError(request: Request, err: TurnError, requestId: string): Response {
  if (!request.headers.has("anthropic-version")) return openaiErrorResponse(err, requestId);
  const type = err.kind === "authentication" ? "authentication_error" : err.kind === "not_found" ? "not_found_error" : "invalid_request_error";
  return new Response(JSON.stringify({ type: "error", error: { type, message: err.message }, request_id: requestId }), {
    status: err.status,
    headers: { "content-type": "application/json", "request-id": requestId, "x-request-id": requestId },
  });
}

