/**
 * The contract every client dialect (OpenAI Chat Completions, Anthropic Messages, OpenAI
 * Responses, …) implements. One HTTP path (src/http/dialect-route.ts) does, for every dialect:
 *
 *   authenticate → read body → dialect.decode → run the turn → dialect.fold (JSON)
 *                                                           or dialect.stream (SSE)
 *
 * and answers every failure with dialect.error. A dialect is one folder under src/dialects/
 * exporting a `Dialect`, plus one registration line in src/http/dialects.ts. Further JSON routes of
 * the same API (e.g. reading a stored response back) are declared in `routes`, and its token
 * count route in `count`; both are served by the same path with the same authentication and
 * error shape.
 *
 * Dialects import only src/core (canonical types, errors, model catalogue, token counting);
 * never src/kiro, src/pool or another dialect.
 */
import type { CanonicalEvent, CanonicalRequest, PromptParts, ResolvedModel } from "../core/canonical";
import type { TurnError } from "../core/errors";

export type DialectName = "openai" | "anthropic" | "responses";

/** What a decoder may use besides the body. Nothing here is a global. */
export type DecodeContext = {
  /** Request headers (conversation id, anthropic-version, …). */
  headers: Headers;
  /**
   * The model catalogue: a client-facing name → what serves it, or a TurnError("not_found",
   * …, {param: "model"}) naming the valid models. Called exactly once per request, at decode.
   */
  resolveModel(name: string): ResolvedModel;
  /** The authenticated client key's id (stored responses are scoped to it). */
  clientKeyId: string;
  /** Aborted when the client goes away (a decoder that reads storage may stop early). */
  signal: AbortSignal;
};

/** A decoded request: the canonical request plus what only this dialect's encoder needs. */
export type Decoded<X = unknown> = {
  request: CanonicalRequest;
  stream: boolean;
  /** Dialect-private options for its encoders (response_format, include_usage, ids, …). */
  extra: X;
};

/** What the turn runner tells the encoders once the upstream answered. */
export type TurnInfo = {
  requestId: string;
  /** The model as the client named it (responses echo it). */
  model: string;
  /** The calibrated prompt-token estimate (what count_tokens would say for this body). */
  inputTokens: number;
  accountId: string;
};

/** Events → SSE text. Every method returns the text to write ("" = nothing). */
export interface StreamEncoder {
  /** Written before the first batch (Anthropic message_start, Responses response.created …). */
  start(): string;
  /** One relayed batch (all events one upstream network chunk completed). */
  batch(events: CanonicalEvent[]): string;
  /** After the last batch (OpenAI's final chunks + [DONE], response.completed …). */
  end(): string;
  /** A failure after the 200, in the dialect's in-stream error form. */
  fail(err: TurnError): string;
}

/** What a dialect's further route receives once the client key was accepted. */
export type DialectRouteRequest = {
  /** The path parameters named in `DialectRoute.path`, URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The authenticated client key's id. */
  clientKeyId: string;
  signal: AbortSignal;
};

/**
 * The API's prompt-token count (Anthropic `count_tokens`, Responses `input_tokens`): no turn, the
 * local estimate, calibrated for the model by what the upstream reported so far.
 */
export type DialectCount = {
  /** POST paths (any query string is accepted). */
  readonly paths: readonly string[];
  /** Body → the prompt to count and the model it is for (absent: the estimate as it is); throws like `decode`. */
  decode(body: unknown, ctx: DecodeContext): CountRequest | Promise<CountRequest>;
  /** The 200's JSON body for the count. */
  reply(inputTokens: number): unknown;
};

export type CountRequest = { prompt: PromptParts; model?: ResolvedModel };

/** A further JSON route of a dialect's API (no turn): e.g. GET /v1/responses/:id. */
export type DialectRoute = {
  method: "GET" | "DELETE";
  /** Path with `:name` parameters, e.g. "/v1/responses/:id/input_items". */
  path: string;
  /** → the JSON body of the 200, or throws a TurnError (answered with `Dialect.error`). */
  handle(req: DialectRouteRequest): unknown;
};

export interface Dialect<X = unknown> {
  readonly name: DialectName;
  /** POST paths served (e.g. ["/v1/messages", "/messages"]); any query string is accepted. */
  readonly paths: readonly string[];
  /** Keep-alive text written after a quiet period on a stream. */
  readonly ping: string;
  /** Body → canonical request, or throws a TurnError (invalid_request with `param`, not_found …). */
  decode(body: unknown, ctx: DecodeContext): Decoded<X> | Promise<Decoded<X>>;
  /** Non-stream: all events → the one JSON body. Throws TurnError (e.g. a failed JSON-schema check). */
  fold(events: AsyncIterable<CanonicalEvent>, turn: TurnInfo, d: Decoded<X>): Promise<unknown>;
  /** Stream: a fresh encoder for this turn. */
  stream(turn: TurnInfo, d: Decoded<X>): StreamEncoder;
  /** Any failure before the 200 (or of a non-stream reply) → the dialect's error Response. */
  error(err: TurnError, requestId: string): Response;
  /** Response headers for a 200 (e.g. Anthropic's `request-id`). */
  headers?(requestId: string): Record<string, string>;
  /**
   * Body text → JSON value, throwing the dialect's TurnError("invalid_request") for an empty or
   * malformed body. Default: JSON.parse, "request body is not valid JSON".
   */
  parse?(text: string): unknown;
  /** The 401 message for a missing or wrong client key (which header carries it). */
  readonly unauthorizedMessage?: string;
  /** Further JSON routes of this API (stored objects …), served with the same key check and errors. */
  readonly routes?: readonly DialectRoute[];
  /** The API's prompt-token count route, when it has one. */
  readonly count?: DialectCount;
}
