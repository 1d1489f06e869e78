import type { CanonicalEvent, StopReason, Usage } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import { asTurnError, openaiErrorBody } from "./errors";
import { checkResponseFormat, type ResponseFormat } from "./response-format";
import { finishReason, mergeUsage, openaiUsage, type OpenAIUsage } from "./shared";

/**
 * Canonical events → Chat Completions chunks. The rules real
 * clients depend on:
 * - the first chunk carries delta.role ("missing role for choice 0" otherwise), with content ""
 *   for a text reply and null when the reply opens with a tool call;
 * - each tool call opens with index, id, type:"function", function.name and arguments:"";
 *   later deltas carry only index + an arguments fragment; a call without arguments gets "{}";
 * - exactly one non-null finish_reason, in a chunk with delta:{}; null (never "") before it;
 * - with include_usage: every chunk has "usage":null and one final chunk has choices:[] + usage.
 * With a JSON response_format the text is held back and sent as one checked delta at the end
 * (or, when the reply calls a tool, unchecked right before the first call).
 * Legacy `functions` requests get the pre-tools shape: delta.function_call {name, arguments:""}
 * first, then {arguments} fragments, and finish_reason "function_call".
 */
export type StreamEncoderOptions = {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  responseFormat?: ResponseFormat;
  legacyFunctions?: boolean;
};

type Delta = Record<string, unknown>;
export type ChatChunk = Record<string, unknown>;

export class ChatStreamEncoder {
  private started = false;
  private finished = false;
  private toolIndex = -1;
  private currentTool: { id: string; index: number; sawArgs: boolean } | undefined;
  private usage: Partial<Usage> = {};
  private heldText: string | undefined;

  constructor(private readonly o: StreamEncoderOptions) {
    if (o.responseFormat && o.responseFormat.type !== "text") this.heldText = "";
  }

  private chunk(choices: unknown[], usage: OpenAIUsage | null = null): ChatChunk {
    const c: ChatChunk = { id: this.o.id, object: "chat.completion.chunk", created: this.o.created, model: this.o.model, system_fingerprint: null, choices };
    if (this.o.includeUsage) c.usage = usage;
    return c;
  }

  private delta(delta: Delta, finish: string | null = null): ChatChunk {
    return this.chunk([{ index: 0, delta, logprobs: null, finish_reason: finish }]);
  }

  private start(out: ChatChunk[], opensWithTool: boolean): void {
    if (this.started) return;
    this.started = true;
    out.push(this.delta({ role: "assistant", content: opensWithTool ? null : "", refusal: null }));
  }

  /** `data: {…"delta":{` … `}…}\n\n` around a content delta, built once (see sse()). */
  private deltaFrame?: [string, string];

  /**
   * The SSE frames for one event, as a string. Text and reasoning deltas — nearly every event of a
   * long answer — are written from a prebuilt prefix/suffix (same bytes JSON.stringify of the
   * chunk object gives) instead of building and serializing a chunk object per upstream frame.
   */
  sse(e: CanonicalEvent): string {
    if (this.started && !this.finished && ((e.type === "text" && this.heldText === undefined) || e.type === "thinking") && e.text) {
      const [pre, post] = (this.deltaFrame ??= this.buildDeltaFrame());
      return `${pre}${e.type === "text" ? '"content"' : '"reasoning_content"'}:${JSON.stringify(e.text)}${post}`;
    }
    let out = "";
    for (const c of this.push(e)) out += sseData(c);
    return out;
  }

  private buildDeltaFrame(): [string, string] {
    const marker = "\u0000delta\u0000";
    const json = JSON.stringify(this.delta({ [marker]: 0 }));
    const at = json.indexOf(JSON.stringify(marker));
    return ["data: " + json.slice(0, at), json.slice(at + JSON.stringify(marker).length + 2) + "\n\n"];
  }

  /** Chunks for one event. Throws TurnError when a held JSON reply fails its response_format. */
  push(e: CanonicalEvent): ChatChunk[] {
    const out: ChatChunk[] = [];
    if (this.finished) {
      if (e.type === "usage") mergeUsage(this.usage, e.usage);
      return out;
    }
    this.start(out, e.type === "tool_start");
    switch (e.type) {
      case "text":
        if (!e.text) break;
        if (this.heldText !== undefined) this.heldText += e.text;
        else out.push(this.delta({ content: e.text }));
        break;
      case "thinking":
        if (e.text) out.push(this.delta({ reasoning_content: e.text }));
        break;
      case "tool_start":
        this.closeTool(out);
        this.releaseHeldText(out);
        this.toolIndex++;
        this.currentTool = { id: e.id, index: this.toolIndex, sawArgs: false };
        if (this.o.legacyFunctions) out.push(this.delta({ function_call: { name: e.name, arguments: "" } }));
        else out.push(this.delta({ tool_calls: [{ index: this.toolIndex, id: e.id, type: "function", function: { name: e.name, arguments: "" } }] }));
        break;
      case "tool_args":
        if (!e.json || !this.currentTool) break;
        this.currentTool.sawArgs = true;
        out.push(this.argsDelta(this.currentTool.index, e.json));
        break;
      case "tool_end":
        this.closeTool(out);
        break;
      case "usage":
        mergeUsage(this.usage, e.usage);
        break;
      case "stop":
        this.finish(out, e.reason);
        break;
    }
    return out;
  }

  private argsDelta(index: number, json: string): ChatChunk {
    return this.delta(this.o.legacyFunctions ? { function_call: { arguments: json } } : { tool_calls: [{ index, function: { arguments: json } }] });
  }

  private closeTool(out: ChatChunk[]): void {
    const t = this.currentTool;
    if (!t) return;
    if (!t.sawArgs) out.push(this.argsDelta(t.index, "{}"));
    this.currentTool = undefined;
  }

  /**
   * A JSON response_format reply that calls a tool is not the final answer, so its text is not
   * checked; it is sent before the call, in the order the model wrote it, and later text streams.
   */
  private releaseHeldText(out: ChatChunk[]): void {
    if (this.heldText === undefined) return;
    if (this.heldText) out.push(this.delta({ content: this.heldText }));
    this.heldText = undefined;
  }

  private finish(out: ChatChunk[], reason: StopReason | undefined): void {
    this.closeTool(out);
    if (this.heldText !== undefined) {
      const held = this.heldText;
      this.heldText = undefined;
      // A reply cut by max_tokens cannot be valid JSON (the client sees it with "length"): it
      // passes through unchecked. (Tool-calling replies released their text at the first call.)
      if (reason !== "max_tokens") {
        const check = checkResponseFormat(held, this.o.responseFormat);
        if (!check.ok) throw new TurnError("upstream", `response_format not satisfied: ${check.message}`);
        if (check.text) out.push(this.delta({ content: check.text }));
      } else if (held) out.push(this.delta({ content: held }));
    }
    out.push(this.delta({}, finishReason(reason, this.o.legacyFunctions)));
    this.finished = true;
  }

  /** Chunks after the last event: a finish chunk if none came, then the usage chunk. */
  end(): ChatChunk[] {
    const out: ChatChunk[] = [];
    this.start(out, false);
    if (!this.finished) this.finish(out, "end_turn");
    if (this.o.includeUsage) out.push(this.chunk([], openaiUsage(this.usage)));
    return out;
  }
}

/** The mid-stream error event: `data: {"error":{…}}`, after which the stream just ends. */
export function errorChunk(err: unknown): Record<string, unknown> {
  return openaiErrorBody(asTurnError(err));
}

/** One SSE frame. OpenAI streams have no `event:` names. */
export const sseData = (v: unknown) => `data: ${typeof v === "string" ? v : JSON.stringify(v)}\n\n`;
export const SSE_DONE = "data: [DONE]\n\n";
export const SSE_PING = ": ping\n\n";
