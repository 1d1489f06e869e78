/**
 * Kiro `generateAssistantResponse` event stream → CanonicalEvents (docs/upstream.md, Events).
 *
 *   decodeKiroStream(body, {restoreToolName}) yields text / thinking / tool_start / tool_args /
 *   tool_end / usage and finally exactly one `stop`; it throws KiroError on in-stream exceptions
 *   (classified), corrupt frames (`transient`) and a stream that ends mid-frame (`transient`).
 *
 * Tool calls are emitted only once complete and parseable (see tool-calls.ts): a call the
 * output cap cut off is dropped, a note saying so ends the text, and the stop is max_tokens.
 *
 * The end of the HTTP body is the end of the turn: the upstream has no terminal event.
 */
import type { CanonicalEvent, StopReason, Usage } from "../../core/canonical";
import { DONE, flatten, nextOf, type PollIterator } from "../../core/poll";
import { KiroError } from "../errors";
import { chunkSource, type ChunkSource, type UpstreamBody } from "./chunks";
import { streamExceptionToError } from "./exceptions";
import { type DecodedFrame, FrameReader } from "./frames";
import { ThinkingTagParser } from "./thinking-tags";
import { ToolCallAssembler, truncatedCallNote, type ToolUseFrame } from "./tool-calls";

export type DecodeKiroStreamOptions = {
  /** Maps the (possibly shortened) upstream tool name back to the client's name. */
  restoreToolName(name: string): string;
  /**
   * Split leading `<thinking>…</thinking>` out of the text (docs/upstream.md, Thinking in the stream). Default true; pass false when
   * the client did not ask for thinking so the text is passed through verbatim.
   */
  thinkingTags?: boolean;
  /**
   * Drop an assistantResponseEvent whose content equals the immediately preceding one (what
   * AIClient-2-API and kiro-gateway do). Default FALSE: the repeat is unconfirmed upstream behaviour,
   * while legitimately repeated deltas ("\n\n", "  ", "}") are common — dropping them would
   * silently corrupt code. Kept as a switch in case the repeat is ever confirmed.
   */
  dropRepeatedText?: boolean;
  /** Called once when reading ends (finished, failed or cancelled), after the body is released. */
  onEnd?: () => void;
  /**
   * Fail with a `transient` KiroError (reason TIMEOUT) when the upstream sends no bytes for this
   * long once streaming. Idle-based, never a wall-clock cap; pings to our client would otherwise
   * hide a dead upstream forever. Default: none (openChat passes 245 s, the official client's
   * socket inactivity timeout).
   */
  idleTimeoutMs?: number;
};

type Json = Record<string, unknown>;

/** The decoded events one at a time (decodeKiroBatches, flattened). */
export function decodeKiroStream(body: UpstreamBody, opts: DecodeKiroStreamOptions): AsyncGenerator<CanonicalEvent> {
  return flatten(decodeKiroBatches(body, opts));
}

/** Events per batch at most: one batch per poll, so this bounds how long a batch holds output back. */
const MAX_BATCH = 256;

/**
 * Same events as decodeKiroStream, grouped: one non-empty array per network chunk (all the
 * frames it completed), as a PollIterator (src/core/poll.ts): a reader that polls decodes each
 * read as soon as it is queued, with no promise between the socket and itself (a paced upstream
 * sends one frame per read, so every promise here would be paid per frame).
 */
export function decodeKiroBatches(body: UpstreamBody, opts: DecodeKiroStreamOptions): PollIterator<CanonicalEvent[]> {
  return new BatchDecoder(chunkSource(body, opts.idleTimeoutMs), opts);
}

class BatchDecoder implements PollIterator<CanonicalEvent[]> {
  private readonly reader = new FrameReader();
  private readonly state: StreamState;
  /**
   * The first events go out alone, so the reader can write them before it asks for the rest of a
   * large read (the SSE writer lets them leave first: time to first byte does not wait for it).
   */
  private firstSent = false;
  /** A failure after some events of the same read: those go out first, this is thrown next. */
  private failure: { error: unknown } | undefined;
  private ended = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly source: ChunkSource,
    private readonly opts: DecodeKiroStreamOptions,
  ) {
    this.state = new StreamState(opts);
  }

  poll(): IteratorResult<CanonicalEvent[]> | undefined {
    if (this.ended) return DONE;
    try {
      if (this.failure) throw this.failure.error;
      for (;;) {
        const batch = this.decodeQueued();
        if (batch) return { done: false, value: batch };
        const chunk = this.source.poll();
        if (chunk === undefined) return undefined;
        if (chunk === null) {
          void this.close(true);
          if (this.reader.pending > 0) throw new KiroError("transient", "upstream stream ended mid-frame");
          return { done: false, value: this.state.finish() };
        }
        this.reader.push(chunk.bytes, chunk.end);
      }
    } catch (err) {
      void this.close(false);
      throw err;
    }
  }

  ready(): Promise<void> {
    if (this.ended || this.failure) return Promise.resolve();
    return this.source.ready();
  }

  next(): Promise<IteratorResult<CanonicalEvent[]>> {
    return nextOf(this);
  }

  async return(): Promise<IteratorResult<CanonicalEvent[]>> {
    await this.close(false);
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Events of the frames already read: all of them, or the first events alone, or MAX_BATCH. */
  private decodeQueued(): CanonicalEvent[] | undefined {
    const reader = this.reader;
    let batch: CanonicalEvent[] | undefined;
    try {
      for (let f = reader.next(); f; f = reader.next()) {
        const evs = this.state.onFrame(f);
        if (evs.length === 0) continue;
        if (!batch) batch = evs;
        else for (let i = 0; i < evs.length; i++) batch.push(evs[i]!);
        if (!this.firstSent) {
          this.firstSent = true;
          return batch;
        }
        if (batch.length >= MAX_BATCH) return batch;
      }
    } catch (err) {
      // Events decoded before a bad frame still reach the client, as they would one by one.
      if (!batch) throw err;
      this.failure = { error: err };
    }
    return batch;
  }

  /** Reading ends (finished, failed or cancelled): the body is released, then `onEnd` runs, once. */
  private close(finished: boolean): Promise<void> {
    if (this.closing) return this.closing;
    this.ended = true;
    const onEnd = () => this.opts.onEnd?.();
    return (this.closing = this.source.close(finished).then(onEnd, onEnd));
  }
}

class StreamState {
  private readonly tags: ThinkingTagParser;
  private readonly tools: ToolCallAssembler;
  /** Content that arrived while a tool call was open; replayed after it so blocks never interleave. */
  private deferred: CanonicalEvent[] = [];
  private lastText: string | undefined;
  private contentLengthExceeded = false;
  private maxContextPct = 0;

  constructor(private readonly opts: DecodeKiroStreamOptions) {
    this.tags = new ThinkingTagParser(opts.thinkingTags ?? true);
    this.tools = new ToolCallAssembler(opts.restoreToolName);
  }

  onFrame(f: DecodedFrame): CanonicalEvent[] {
    const messageType = f.headers[":message-type"] ?? "event";
    if (messageType === "error") {
      // SDK: `error` frames carry code and message in headers; the payload is ignored.
      throw streamExceptionToError(f.headers[":error-code"] ?? "UnknownError", f.headers[":error-message"] ?? "");
    }
    const eventType = f.headers[":event-type"] ?? "";
    if (eventType === "assistantResponseEvent" && messageType === "event") {
      // Nearly every frame of an answer: its text without a JSON.parse and a payload object.
      const content = plainContent(f.payloadText);
      if (content !== undefined) return this.onText(content);
    }
    const payload = parsePayload(f);
    if (messageType === "exception") {
      // The header is the rule (SDK); payload __type is only a fallback for header-less peers.
      const type = f.headers[":exception-type"] ?? stripNamespace(payload.__type) ?? "UnknownException";
      return this.onException(type, payload);
    }
    return this.onEvent(eventType, unwrap(eventType, payload));
  }

  private onException(type: string, p: Json): CanonicalEvent[] {
    if (type === "ContentLengthExceededException") {
      // Row 30: output limit reached mid-answer → finish normally with max_tokens. Keep reading:
      // trailing metering/context events may still follow before EOF.
      this.contentLengthExceeded = true;
      this.lastText = undefined;
      return [];
    }
    throw streamExceptionToError(type, str(p.message) ?? str(p.Message) ?? "", str(p.reason));
  }

  private onText(content: string | undefined): CanonicalEvent[] {
    if (!content) return [];
    if (this.opts.dropRepeatedText && content === this.lastText) return [];
    this.lastText = content;
    // Plain answer text (no tag parsing pending) skips the tag parser's arrays: the per-frame path.
    if (this.tags.passthrough) return this.content([{ type: "text", text: content }]);
    return this.content(this.tags.push(content).map((o) => ({ type: o.kind, text: o.text })));
  }

  private onEvent(type: string, p: Json): CanonicalEvent[] {
    if (type !== "assistantResponseEvent") this.lastText = undefined;
    switch (type) {
      case "assistantResponseEvent":
        return this.onText(str(p.content));
      case "reasoningContentEvent": {
        const text = str(p.text) ?? "";
        const signature = str(p.signature);
        // redactedContent (encrypted thinking) has no CanonicalEvent to carry it: dropped.
        if (!text && !signature) return [];
        return this.content([signature ? { type: "thinking", text, signature } : { type: "thinking", text }]);
      }
      case "toolUseEvent": {
        // A tool call is a boundary for the tag parser (a trailing `</thinking>` may close here).
        const before = this.tools.open ? [] : this.tags.flush().map((o): CanonicalEvent => ({ type: o.kind, text: o.text }));
        const out = [...before, ...this.tools.push(p as ToolUseFrame)];
        if (!this.tools.open && this.deferred.length) out.push(...this.deferred.splice(0));
        return out;
      }
      case "metadataEvent": {
        const u = p.tokenUsage as Json | undefined;
        if (!u || typeof u !== "object") return [];
        const usage: Partial<Usage> = {};
        if (num(u.uncachedInputTokens) !== undefined) usage.inputTokens = num(u.uncachedInputTokens);
        if (num(u.outputTokens) !== undefined) usage.outputTokens = num(u.outputTokens);
        if (num(u.cacheReadInputTokens) !== undefined) usage.cacheReadInputTokens = num(u.cacheReadInputTokens);
        if (num(u.cacheWriteInputTokens) !== undefined) usage.cacheWriteInputTokens = num(u.cacheWriteInputTokens);
        const pct = this.pct(u.contextUsagePercentage);
        return [pct === undefined ? { type: "usage", usage } : { type: "usage", usage, contextUsagePercentage: pct }];
      }
      case "contextUsageEvent": {
        const pct = this.pct(p.contextUsagePercentage);
        return pct === undefined ? [] : [{ type: "usage", usage: {}, contextUsagePercentage: pct }];
      }
      case "meteringEvent": {
        // `usage` is credits charged for this call (unit "credit"), never tokens.
        const credits = num(p.usage);
        return credits === undefined ? [] : [{ type: "usage", usage: { credits } }];
      }
      case "invalidStateEvent":
        // An error inside a 200 stream: end the turn with an error (classified by name; unnamed → transient).
        throw streamExceptionToError("InvalidStateEvent", str(p.message) ?? "invalid state", str(p.reason));
      case "error":
        // The union's modeled InternalServerException member, if ever sent as an event frame.
        throw streamExceptionToError("InternalServerException", str(p.message) ?? "", str(p.reason));
      // Deliberately ignored: IDE/UI data with no place in a chat completion —
      // messageMetadataEvent (ids, log only), codeEvent (/dev code generation), codeReferenceEvent,
      // citationEvent, documentCitationEvent, supplementaryWebLinksEvent, followupPromptEvent,
      // intentsEvent, interactionComponentsEvent, toolResultEvent (server-side tools),
      // dryRunSucceedEvent (empty). Unknown and peer-only types (messageStopEvent, metricsEvent)
      // are skipped like the SDK does, so a new upstream event never breaks a turn.
      default:
        return [];
    }
  }

  private content(evs: CanonicalEvent[]): CanonicalEvent[] {
    if (this.tools.open) {
      this.deferred.push(...evs);
      return [];
    }
    return evs;
  }

  private pct(v: unknown): number | undefined {
    const pct = num(v);
    if (pct !== undefined) this.maxContextPct = Math.max(this.maxContextPct, pct);
    return pct;
  }

  finish(): CanonicalEvent[] {
    const out: CanonicalEvent[] = [...this.tools.finish(), ...this.deferred.splice(0)];
    out.push(...this.tags.flush().map((o): CanonicalEvent => ({ type: o.kind, text: o.text })));
    // Dropped (cut off) tool calls: say so in the answer, which the model reads next turn.
    if (this.tools.cut.length) out.push({ type: "text", text: truncatedCallNote(this.tools.cut) });
    out.push({ type: "stop", reason: this.stopReason() });
    return out;
  }

  private stopReason(): StopReason {
    // Truncation wins: after ContentLengthExceeded, or a tool call cut off / with broken JSON, the
    // answer is incomplete and the client must not treat it as a finished tool_use.
    if (this.contentLengthExceeded || this.tools.incomplete > 0) return "max_tokens";
    if (this.tools.completed > 0) return "tool_use";
    if (this.maxContextPct >= 100) return "model_context_window_exceeded";
    return "end_turn";
  }
}

const CONTENT_PREFIX = '{"content":"';
/** Characters that JSON escapes or forbids inside a string: their presence needs the real parser. */
const NEEDS_PARSER = /["\\\u0000-\u001f]/;

/**
 * The text of a payload that is exactly `{"content":"…"}` with nothing escaped in it (the usual
 * assistantResponseEvent), else undefined (then JSON.parse decides, errors included). Same value
 * JSON.parse would give: a JSON string without escapes or control characters is its own text.
 */
function plainContent(t: string): string | undefined {
  if (!t.startsWith(CONTENT_PREFIX) || !t.endsWith('"}')) return undefined;
  const body = t.slice(CONTENT_PREFIX.length, t.length - 2);
  return NEEDS_PARSER.test(body) ? undefined : body;
}

function parsePayload(f: DecodedFrame): Json {
  if (!f.payloadText) return {};
  try {
    const v: unknown = JSON.parse(f.payloadText);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
  } catch (e) {
    throw new KiroError("transient", "upstream event stream: malformed JSON payload", { cause: e });
  }
}

/** The payload is the member itself (streaming SDK); tolerate the `{"<eventType>": {...}}` form (the kiro.rs fork by 2ue and kiro2api unwrap it). */
function unwrap(eventType: string, p: Json): Json {
  const inner = p[eventType];
  if (inner && typeof inner === "object" && Object.keys(p).length === 1) return inner as Json;
  return p;
}

function stripNamespace(v: unknown): string | undefined {
  if (typeof v !== "string" || !v) return undefined;
  return v.slice(v.lastIndexOf("#") + 1).split(":")[0];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
