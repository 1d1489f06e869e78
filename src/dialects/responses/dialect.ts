import type { CanonicalEvent } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import type { Decoded, Dialect, DialectRoute, StreamEncoder, TurnInfo } from "../dialect";
import { ResponseBuilder, type FinalResponse } from "./builder";
import { decodeResponsesCount, decodeResponsesRequest, type ResponsesExtra } from "./decode";
import { responsesErrorResponse } from "./errors";
import { FirstTimeNotices } from "./notices";
import { deleteResponse, listInputItems, retrieveResponse } from "./retrieval";
import { storedForm, type ResponseStorage } from "./storage";

/**
 * The OpenAI Responses API as a Dialect: `POST /v1/responses` (alias `/responses`), stream or
 * JSON by the body's `stream` (never by `Accept`). Responses with `store` (the default) are kept
 * through `storage` for `previous_response_id`, `item_reference` and the retrieval routes
 * (`routes`: GET/DELETE /v1/responses/:id, GET /v1/responses/:id/input_items; ./retrieval.ts).
 * POST /v1/responses/input_tokens is its `count` (`client.responses.inputTokens.count`).
 * `Services` provides `settings` and `log`; the registration passes the storage in.
 */
export type ResponsesDialectDeps = {
  storage: ResponseStorage;
  /** How long a stored response is kept; read per response so settings changes apply. */
  settings: { readonly runtime: { readonly responsesRetentionDays: number } };
  log: { debug(msg: string): void; info(msg: string): void; warn(msg: string): void };
};

/** SSE comment written after a quiet period (Codex and both SDKs ignore comments). */
export const RESPONSES_PING = ": keepalive\n\n";

const DAY_MS = 86_400_000;
const PATHS = ["/v1/responses", "/responses"] as const;

export function responsesDialect(deps: ResponsesDialectDeps): Dialect<ResponsesExtra> {
  const { storage } = deps;
  // One per dialect instance (built once per server): repeated notices drop to debug.
  const notices = new FirstTimeNotices(deps.log);

  const keep = (d: Decoded<ResponsesExtra>, f: FinalResponse) => {
    const x = d.extra;
    if (!x.store) return;
    const failed = (err: unknown) => deps.log.warn(`responses: could not store ${x.responseId}: ${err instanceof Error ? err.message : String(err)}`);
    // Not awaited: both engines write it after the terminal event (reads of it meanwhile answer from memory).
    try {
      storage
        .save(
          { id: x.responseId, clientKeyId: x.clientKeyId, createdAt: x.createdAt * 1000, response: storedForm(f.response, f.replayOutput), input: x.input, output: f.replayOutput, json: f.storedJson },
          deps.settings.runtime.responsesRetentionDays * DAY_MS,
        )
        .catch(failed);
    } catch (err) {
      failed(err);
    }
  };

  const routes: DialectRoute[] = PATHS.flatMap((p): DialectRoute[] => [
    { method: "GET", path: `${p}/:id`, handle: (r) => retrieveResponse(storage, r.params.id ?? "", r.clientKeyId, r.query, r.signal) },
    { method: "DELETE", path: `${p}/:id`, handle: (r) => deleteResponse(storage, r.params.id ?? "", r.clientKeyId, r.signal) },
    { method: "GET", path: `${p}/:id/input_items`, handle: (r) => listInputItems(storage, r.params.id ?? "", r.clientKeyId, r.query, r.signal) },
  ]);

  return {
    name: "responses",
    paths: PATHS,
    ping: RESPONSES_PING,
    unauthorizedMessage: "Incorrect API key provided. Send the kiro-server client key as 'Authorization: Bearer <key>'.",
    routes,

    parse(text) {
      try {
        return JSON.parse(text);
      } catch {
        throw new TurnError("invalid_request", "We could not parse the JSON body of your request.", { param: "body" });
      }
    },

    decode: (body, ctx) => decodeResponsesRequest(body, ctx, { storage, notices }),

    count: {
      paths: PATHS.map((p) => `${p}/input_tokens`),
      decode: (body, ctx) => decodeResponsesCount(body, ctx, { storage, notices }),
      reply: (inputTokens) => ({ object: "response.input_tokens", input_tokens: inputTokens }),
    },

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
