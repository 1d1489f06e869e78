/**
 * OpenAI Chat Completions as a Dialect: POST /v1/chat/completions (alias /chat/completions),
 * JSON or SSE by the body's `stream`. Every failure before the 200 is a real HTTP error in OpenAI
 * shape (SDKs retry on status); after the 200 of a stream it is one `data: {"error":…}` event,
 * then the end (no [DONE]).
 */
import { TurnError } from "../../core/errors";
import type { Dialect, StreamEncoder } from "../dialect";
import { decodeChatRequest } from "./decode";
import { encodeChatCompletion } from "./encode-json";
import { ChatStreamEncoder, errorChunk, sseData, SSE_DONE, SSE_PING } from "./encode-stream";
import { openaiErrorResponse } from "./errors";
import type { ResponseFormat } from "./response-format";
import { newCompletionId } from "./shared";

/** What only the OpenAI encoders need from the request. */
export type OpenAIExtra = {
  includeUsage: boolean;
  responseFormat?: ResponseFormat;
  /** The request used legacy `functions`: answer with `function_call`, not `tool_calls`. */
  legacyFunctions: boolean;
};

/** Conversation key for account affinity: the X-Conversation-Id header, at most 200 characters. */
function conversationHeader(headers: Headers): string | undefined {
  return headers.get("x-conversation-id")?.slice(0, 200) || undefined;
}

export const openaiDialect: Dialect<OpenAIExtra> = {
  name: "openai",
  paths: ["/v1/chat/completions", "/chat/completions"],
  ping: SSE_PING,

  unauthorizedMessage: "Incorrect API key provided. Send the kiro-server client key as 'Authorization: Bearer <key>'.",

  parse(text) {
    try {
      return JSON.parse(text);
    } catch {
      throw new TurnError("invalid_request", "We could not parse the JSON body of your request.", { param: "body" });
    }
  },

  decode(body, ctx) {
    const d = decodeChatRequest(body, { conversationId: conversationHeader(ctx.headers), resolveModel: ctx.resolveModel });
    return {
      request: d.request,
      stream: d.stream,
      extra: { includeUsage: d.includeUsage, responseFormat: d.responseFormat, legacyFunctions: d.legacyFunctions },
    };
  },

  fold(events, turn, d) {
    return encodeChatCompletion(events, {
      id: newCompletionId(),
      created: Math.floor(Date.now() / 1000),
      model: turn.model,
      responseFormat: d.extra.responseFormat,
      legacyFunctions: d.extra.legacyFunctions,
    });
  },

  stream(turn, d): StreamEncoder {
    const enc = new ChatStreamEncoder({
      id: newCompletionId(),
      created: Math.floor(Date.now() / 1000),
      model: turn.model,
      includeUsage: d.extra.includeUsage,
      responseFormat: d.extra.responseFormat,
      legacyFunctions: d.extra.legacyFunctions,
    });
    return {
      start: () => "",
      batch(events) {
        let str = "";
        for (const e of events) str += enc.sse(e);
        return str;
      },
      end() {
        let tail = "";
        for (const c of enc.end()) tail += sseData(c);
        return tail + SSE_DONE;
      },
      fail: (err) => sseData(errorChunk(err)),
    };
  },

  error: (err, requestId) => openaiErrorResponse(err, requestId),
};
