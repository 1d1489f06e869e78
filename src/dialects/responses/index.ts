import type { CanonicalEvent } from "../../core/canonical";
import type { Decoded, Dialect, StreamEncoder, TurnInfo } from "../dialect";
import { ResponseBuilder, type FinalResponse } from "./builder";
import { decodeResponsesRequest, type ResponsesExtra } from "./decode";
import { responsesErrorResponse } from "./errors";
import type { ResponseStorage } from "./storage";

/**
 * The OpenAI Responses API as a Dialect: `POST /v1/responses` (alias `/responses`), stream or
 * JSON by the body's `stream` (never by `Accept`). Responses with `store` (the default) are kept
 * through `storage` for `previous_response_id` and the retrieval routes (./retrieval.ts).
 */
export type ResponsesDialectDeps = {
  storage: ResponseStorage;
  /** How long a stored response is kept (ms); read per response so settings changes apply. */
  retentionMs(): number;
  /** A line in the server log. */
  notice(message: string): void;
};

/** SSE comment written after a quiet period (Codex and both SDKs ignore comments). */
export const RESPONSES_PING = ": keepalive\n\n";

export function responsesDialect(deps: ResponsesDialectDeps): Dialect<ResponsesExtra> {
  const keep = (d: Decoded<ResponsesExtra>, f: FinalResponse) => {
    const x = d.extra;
    if (!x.store) return;
    try {
      deps.storage.save(
        { id: x.responseId, clientKeyId: x.clientKeyId, createdAt: x.createdAt * 1000, response: f.response, input: x.input, output: f.replayOutput },
        deps.retentionMs(),
      );
    } catch (err) {
      deps.notice(`responses: could not store ${x.responseId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  return {
    name: "responses",
    paths: ["/v1/responses", "/responses"],
    ping: RESPONSES_PING,
    decode: (body, ctx) => decodeResponsesRequest(body, ctx, deps),

    async fold(events: AsyncIterable<CanonicalEvent>, turn: TurnInfo, d: Decoded<ResponsesExtra>) {
      const b = new ResponseBuilder(d.extra, turn.model, false);
      for await (const e of events) b.push(e);
      const f = b.end();
      keep(d, f);
      return { ...f.response, output_text: outputText(f.response) };
    },

    stream(turn: TurnInfo, d: Decoded<ResponsesExtra>): StreamEncoder {
      const b = new ResponseBuilder(d.extra, turn.model, true);
      return {
        start: () => (b.start(), b.take()),
        batch(events) {
          for (const e of events) b.push(e);
          return b.take();
        },
        end() {
          keep(d, b.end());
          return b.take();
        },
        fail(err) {
          b.fail(err);
          return b.take();
        },
      };
    },

    error: responsesErrorResponse,
  };
}

/** The SDKs' convenience field: all output_text of the message items, concatenated. */
function outputText(r: Record<string, unknown>): string {
  let s = "";
  for (const it of (r.output as Array<Record<string, unknown>>) ?? []) {
    if (it.type !== "message") continue;
    for (const c of (it.content as Array<Record<string, unknown>>) ?? []) if (c.type === "output_text") s += String(c.text ?? "");
  }
  return s;
}
