import { Elysia } from "elysia";
import type { Services } from "../services";
import { authenticateClient } from "./client-auth";
import { sseWriter } from "./sse-writer";
import { maxBodyBytes, readBodyText } from "./body-limit";
import { TurnError } from "../core/errors";
import { runTurn, validModelNames } from "../core/turn";
import { resolveModel } from "../core/models";
import { estimateInputTokensAsync } from "../core/tokens";
import { calibratedInputTokens } from "../core/usage";
import { decodeAnthropicRequest } from "../dialects/anthropic/decode";
import { AnthropicStreamEncoder, PING_FRAME, newMessageId } from "../dialects/anthropic/encode-stream";
import { AnthropicMessageFolder } from "../dialects/anthropic/encode-json";
import { anthropicErrorResponse, anthropicErrorType } from "../dialects/anthropic/errors";
import type { ClientKey } from "../keys/client-keys";

export type AnthropicRouteOptions = {
  /** Keep-alive ping after this much silence on a stream (api-conformance.md §2.4; default 10 s). */
  pingIntervalMs?: number;
};


/**
 * Anthropic Messages API: POST /v1/messages and /v1/messages/count_tokens (any query string,
 * e.g. Claude Code's ?beta=true), plus the un-prefixed aliases. Stream vs JSON is chosen by the
 * body's `stream`, never by Accept. Errors are Anthropic-shaped; after a 200 they are `event: error`.
 */
export const anthropicRoutes = (s: Services, opts: AnthropicRouteOptions = {}) => {
  const pingMs = opts.pingIntervalMs ?? s.config.keepAliveMs;

  const messages = async ({ request, server, requestId }: RouteCtx) => {
    // The upstream may think for minutes before answering: Bun's idle timeout must not cut us.
    server?.timeout(request, 0);
    try {
      const key = requireKey(s, request);
      const body = await readJson(request, maxBodyBytes(s.config.maxBodyMb));
      const { req, stream } = decodeAnthropicRequest(body, {
        conversationHeader: request.headers.get("x-conversation-id"),
      });
      const turn = await runTurn(s, req, { signal: request.signal, requestId, clientKey: key ?? undefined, stream, clientBody: body });
      const id = newMessageId();
      // message_start needs an input count before upstream usage exists: the calibrated estimate,
      // the same number count_tokens gives for this body.
      const inputEstimate = inputTokensFor(turn.model, turn.estimatedInputTokens);
      if (!stream) {
        const folder = new AnthropicMessageFolder(id, turn.model, inputEstimate);
        for await (const ev of turn.events) folder.add(ev);
        return new Response(JSON.stringify(folder.message()), { headers: jsonHeaders(requestId) });
      }
      const enc = new AnthropicStreamEncoder(id, turn.model, inputEstimate);
      const sse = sseWriter(turn.batches, pingMs, PING_FRAME, {
        start: () => enc.start(),
        frame: (batch) => {
          let str = "";
          for (const ev of batch) str += enc.event(ev);
          return str;
        },
        fail: (err) => {
          const te = err instanceof TurnError ? err : new TurnError("upstream", "upstream failed mid-stream");
          if (!(err instanceof TurnError)) s.log.error("stream failed", { requestId, error: err instanceof Error ? err.message : String(err) });
          return enc.error(anthropicErrorType(te), te.message);
        },
        // The turn's iterator is returned by the writer on cancel; that aborts the upstream call.
        cancel: () => {},
      });
      return new Response(sse, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
          "request-id": requestId,
          "x-request-id": requestId,
        },
      });
    } catch (err) {
      return errorResponse(s, err, requestId);
    }
  };

  const countTokens = async ({ request, requestId }: RouteCtx) => {
    try {
      requireKey(s, request);
      const { req } = decodeAnthropicRequest(await readJson(request, maxBodyBytes(s.config.maxBodyMb)), { forCounting: true });
      if (!resolveModel(req.model)) {
        throw new TurnError("not_found", `model '${req.model}' is not available; valid models: ${validModelNames().join(", ")}`, { param: "model" });
      }
      return new Response(JSON.stringify({ input_tokens: inputTokensFor(req.model, await estimateInputTokensAsync(req)) }), { headers: jsonHeaders(requestId) });
    } catch (err) {
      return errorResponse(s, err, requestId);
    }
  };

  // parse: "none" — we read the body ourselves so a malformed one gets an Anthropic-shaped 400.
  return new Elysia({ name: "anthropic-routes" })
    .post("/v1/messages", messages as never, { parse: "none" })
    .post("/messages", messages as never, { parse: "none" })
    .post("/v1/messages/count_tokens", countTokens as never, { parse: "none" })
    .post("/messages/count_tokens", countTokens as never, { parse: "none" });
};

type RouteCtx = {
  request: Request;
  server: { timeout(req: Request, seconds: number): void } | null;
  requestId: string;
};

/**
 * The local estimate scaled by what the upstream reported for this model so far
 * (src/core/usage.ts calibration), so count_tokens agrees with the usage of a real request.
 */
function inputTokensFor(model: string, estimate: number): number {
  const info = resolveModel(model);
  return info ? calibratedInputTokens(info.kiroId, estimate) : estimate;
}

function jsonHeaders(requestId: string): Record<string, string> {
  return { "content-type": "application/json", "request-id": requestId, "x-request-id": requestId };
}

function requireKey(s: Services, request: Request): ClientKey | null {
  const key = authenticateClient(s, request);
  if (!key) throw new TurnError("authentication", "invalid x-api-key (or Authorization: Bearer) for this server");
  return key;
}

async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const text = await readBodyText(request, maxBytes);
  if (!text.trim()) throw new TurnError("invalid_request", "request body is empty; expected a JSON object");
  try {
    return JSON.parse(text);
  } catch {
    throw new TurnError("invalid_request", "request body is not valid JSON");
  }
}

function errorResponse(s: Services, err: unknown, requestId: string): Response {
  if (!(err instanceof TurnError)) {
    s.log.error("anthropic route failed", { requestId, error: err instanceof Error ? err.message : String(err) });
  }
  return anthropicErrorResponse(err, requestId);
}

