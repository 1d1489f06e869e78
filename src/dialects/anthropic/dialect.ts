/**
 * Anthropic Messages as a Dialect: POST /v1/messages (any query string, e.g. Claude Code's
 * ?beta=true) and the un-prefixed alias. Stream vs JSON is chosen by the body's `stream`, never by
 * Accept. Errors are Anthropic-shaped; after a 200 they are `event: error`. POST
 * /v1/messages/count_tokens (and its alias) is its `count`: the same body without max_tokens.
 */
import { TurnError } from "../../core/errors";
import type { Dialect, StreamEncoder } from "../dialect";
import { decodeAnthropicRequest } from "./decode";
import { AnthropicMessageFolder } from "./encode-json";
import { AnthropicStreamEncoder, PING_FRAME, newMessageId } from "./encode-stream";
import { anthropicErrorResponse, anthropicErrorType } from "./errors";

/** Body text → JSON value, with Anthropic's wording for an empty or malformed body. */
export function parseAnthropicBody(text: string): unknown {
  if (!text.trim()) throw new TurnError("invalid_request", "request body is empty; expected a JSON object");
  try {
    return JSON.parse(text);
  } catch {
    throw new TurnError("invalid_request", "request body is not valid JSON");
  }
}

export const ANTHROPIC_UNAUTHORIZED = "invalid x-api-key (or Authorization: Bearer) for this server";

/** Anthropic answers carry `request-id` besides the shared `x-request-id`. */
export const anthropicHeaders = (requestId: string) => ({ "request-id": requestId });

export const anthropicDialect: Dialect<null> = {
  name: "anthropic",
  paths: ["/v1/messages", "/messages"],
  ping: PING_FRAME,
  parse: parseAnthropicBody,
  unauthorizedMessage: ANTHROPIC_UNAUTHORIZED,

  decode(body, ctx) {
    const { req, stream } = decodeAnthropicRequest(body, {
      conversationHeader: ctx.headers.get("x-conversation-id"),
      resolveModel: ctx.resolveModel,
    });
    return { request: req, stream, extra: null };
  },

  count: {
    paths: ["/v1/messages/count_tokens", "/messages/count_tokens"],
    decode(body, ctx) {
      const { req } = decodeAnthropicRequest(body, { forCounting: true, resolveModel: ctx.resolveModel });
      return { prompt: req, model: req.model };
    },
    reply: (inputTokens) => ({ input_tokens: inputTokens }),
  },

  // message_start and the folded message need an input count before upstream usage exists:
  // turn.inputTokens is the calibrated estimate, the number count_tokens gives for this body.
  async fold(events, turn) {
    const folder = new AnthropicMessageFolder(newMessageId(), turn.model, turn.inputTokens);
    for await (const ev of events) folder.add(ev);
    return folder.message();
  },

  stream(turn): StreamEncoder {
    const enc = new AnthropicStreamEncoder(newMessageId(), turn.model, turn.inputTokens);
    return {
      start: () => enc.start(),
      batch(events) {
        let str = "";
        for (const ev of events) str += enc.event(ev);
        return str;
      },
      end: () => "",
      fail: (err) => enc.error(anthropicErrorType(err), err.message),
    };
  },

  error: (err, requestId) => anthropicErrorResponse(err, requestId),
  headers: anthropicHeaders,
};
