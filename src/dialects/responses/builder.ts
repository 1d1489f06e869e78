import type { CanonicalEvent, StopReason, Usage } from "../../core/canonical";
import { checkResponseFormat } from "../../core/response-format";
import { TurnError } from "../../core/errors";
import type { ResponsesExtra } from "./decode";
import { failedError } from "./errors";
import { encodeReasoning, itemId } from "./ids";
import { LOCAL_SHELL } from "./tools";
import { deltaFrame, MARK, responseTemplate, type ResponseTemplate } from "./frames";
import type { StoredJson } from "./storage";
import { WebSearchItems } from "./web-search";

/**
 * Canonical events → Responses output items, as SSE events (stream) or only the final object
 * (non-stream: the same builder with `streaming` off, so both forms agree item for item).
 *
 * Stream order per item (what the clients need): `output_item.added` before anything else of the
 * item, `content_part.added` / `reasoning_summary_part.added` before their deltas, `item_id` on
 * every delta, then the `.done` events and `output_item.done` with the item's final form — Codex
 * takes items only from `output_item.done`. One item is open at a time (the upstream's block
 * order); `sequence_number` counts from 0. The terminal event (`response.completed`,
 * `response.incomplete`, `response.failed`) carries every item, because the `openai` SDK replaces
 * its snapshot with it. Web searches run by kiro-server are `web_search_call` items, and the
 * answer's text cites their results in `url_citation` annotations (./web-search.ts).
 */
type Item = Record<string, unknown>;

type Open =
  | { kind: "message"; index: number; id: string; text: string; ids: string }
  | { kind: "reasoning"; index: number; id: string; text: string; signature?: string; partOpen: boolean; ids: string }
  | { kind: "tool"; index: number; id: string; callId: string; name: string; args: string; form: "function" | "custom" | "shell" };

export type FinalResponse = {
  response: Item;
  replayOutput: Item[];
  /**
   * Streaming only: the stored form's JSON (the response with `{"$output":i}` for each item that is
   * also the replayed one, and the replayed output) built from the JSON already sent, the same
   * text `JSON.stringify` gives for both; the store then serialises neither the answer nor the
   * request's echo again.
   */
  storedJson?: () => StoredJson;
};

export class ResponseBuilder {
  private seq = 0;
  private sse = "";
  private readonly output: Item[] = [];
  /** Output in the form a continuation replays (reasoning keeps its signed text). */
  private readonly replay: Item[] = [];
  private open: Open | undefined;
  private readonly usage: Partial<Usage> = {};
  private stop: StopReason | undefined;
  /** JSON text.format: the reply text is held back and checked before it is sent. */
  private held: string | undefined;
  private items = 0;
  private thinkingChars = 0;
  private otherChars = 0;
  private finished = false;
  private readonly searches: WebSearchItems;
  /** Streaming: the JSON of each output item as last sent; the terminal event reuses it. */
  private readonly itemJson: string[] = [];
  /** Streaming: the response object's JSON around its variable fields (built on first use). */
  private head: ResponseTemplate | undefined;

  constructor(private readonly x: ResponsesExtra, private readonly model: string, private readonly streaming: boolean) {
    if (x.format) this.held = "";
    const sink = { add: this.add.bind(this), done: this.done.bind(this), emit: this.emit.bind(this) };
    this.searches = new WebSearchItems(sink, x.includeSources === true);
  }

  /** The SSE text produced since the last call. */
  take(): string {
    const s = this.sse;
    this.sse = "";
    return s;
  }

  start(): void {
    if (!this.streaming) return;
    const r = `,"response":${this.responseJson("in_progress", null, null, null)}`;
    this.emitRaw("response.created", r);
    this.emitRaw("response.in_progress", r);
  }

  push(e: CanonicalEvent): void {
    if (this.finished) return;
    switch (e.type) {
      case "text":
        if (!e.text) return;
        this.otherChars += e.text.length;
        if (this.held !== undefined) this.held += e.text;
        else this.messageDelta(e.text);
        return;
      case "thinking": {
        const r = this.open?.kind === "reasoning" ? this.open : this.openReasoning();
        if (e.text) {
          this.thinkingChars += e.text.length;
          if (!r.partOpen) {
            r.partOpen = true;
            this.emit("response.reasoning_summary_part.added", { item_id: r.id, output_index: r.index, summary_index: 0, part: { type: "summary_text", text: "" } });
          }
          r.text += e.text;
          if (this.streaming) this.sse += deltaFrame("response.reasoning_summary_text.delta", this.seq++, r.ids, e.text, "");
        }
        if (e.signature) r.signature = e.signature;
        return;
      }
      case "tool_start":
        this.closeOpen();
        this.releaseHeld();
        this.openTool(e.id, e.name);
        return;
      case "tool_args":
        if (this.open?.kind !== "tool" || !e.json) return;
        this.open.args += e.json;
        this.otherChars += e.json.length;
        if (this.open.form === "function") this.emit("response.function_call_arguments.delta", { item_id: this.open.id, output_index: this.open.index, delta: e.json });
        return;
      case "tool_end":
        if (this.open?.kind === "tool") this.closeOpen();
        return;
      case "usage":
        for (const [k, v] of Object.entries(e.usage)) if (typeof v === "number") (this.usage as Record<string, number>)[k] = v;
        return;
      case "stop":
        this.stop ??= e.reason;
        return;
      case "server_tool_use":
        this.closeOpen();
        this.releaseHeld();
        this.searches.push(e);
        return;
      case "web_search_result":
      case "web_search_error":
        this.searches.push(e);
        return;
      case "cited_text":
        this.searches.push(e);
        this.push({ type: "text", text: e.text });
        return;
    }
  }

  /** Closes everything and emits the terminal event. Throws TurnError when a JSON reply fails its format. */
  end(): FinalResponse {
    this.closeOpen();
    if (this.held !== undefined) {
      let text = this.held;
      this.held = undefined;
      // A reply cut by max_output_tokens cannot be valid JSON: it is sent as it is, incomplete.
      if (this.stop !== "max_tokens" && this.stop !== "model_context_window_exceeded") {
        const check = checkResponseFormat(text, this.x.format);
        if (!check.ok) throw new TurnError("upstream", `text.format not satisfied: ${check.message}`);
        text = check.text;
      }
      if (text) {
        this.messageDelta(text);
        this.closeOpen();
      }
    }
    this.finished = true;
    const incomplete = this.stop === "max_tokens" || this.stop === "model_context_window_exceeded" ? "max_output_tokens" : this.stop === "refusal" ? "content_filter" : undefined;
    const status = incomplete ? "incomplete" : "completed";
    const usage = responsesUsage(this.usage, this.reasoningShare());
    const response = this.snapshot(status, usage);
    if (incomplete) response.incomplete_details = { reason: incomplete };
    if (!this.streaming) return { response, replayOutput: this.replay.slice() };
    this.emitRaw(`response.${status}`, `,"response":${this.responseJson(status, usage, null, response.incomplete_details)}`);
    // Nothing changes the items after end(): the record's JSON is assembled when it is written.
    const output = response.output as Item[];
    const replay = this.replay.slice();
    const itemJson = this.itemJson;
    const storedJson = (): StoredJson => ({
      response: this.responseJson(status, usage, null, response.incomplete_details, output.map((it, i) => (it === replay[i] ? `{"$output":${i}}` : itemJson[i]))),
      output: `[${replay.map((it, i) => (it === output[i] ? itemJson[i] : JSON.stringify(it))).join(",")}]`,
    });
    return { response, replayOutput: replay, storedJson };
  }

  /** A failure after the 200: open items are closed, then `response.failed` with Codex's code. */
  fail(err: unknown): Item {
    if (this.finished) return {};
    this.closeOpen();
    this.searches.abandon();
    this.finished = true;
    const response = this.snapshot("failed", null);
    response.error = failedError(err);
    if (this.streaming) this.emitRaw("response.failed", `,"response":${this.responseJson("failed", null, response.error, null)}`);
    return response;
  }

  // ---------------------------------------------------------------------------- items

  private snapshot(status: string, usage: Item | string | null, output: Item[] | string = this.output.slice(), error: string | null = null, incomplete: string | null = null): Item {
    const x = this.x;
    return {
      id: x.responseId,
      object: "response",
      created_at: x.createdAt,
      status,
      background: false,
      error,
      incomplete_details: incomplete,
      ...x.echo,
      model: this.model,
      output,
      usage,
    };
  }

  /**
   * The response object as JSON, for the events that carry it: the constant fields and the
   * request's echo (Codex's tool list can be tens of kilobytes) are serialised once per response,
   * the output items are the JSON already sent for each. Same bytes as serialising snapshot().
   */
  private responseJson(status: string, usage: Item | null, error: unknown, incomplete: unknown, itemJson: string[] = this.itemJson): string {
    const h = (this.head ??= responseTemplate(this.snapshot(MARK.status, MARK.usage, MARK.output, MARK.error, MARK.incomplete)));
    return `${h[0]}${JSON.stringify(status)}${h[1]}${JSON.stringify(error)}${h[2]}${JSON.stringify(incomplete)}${h[3]}[${itemJson.join(",")}]${h[4]}${JSON.stringify(usage)}${h[5]}`;
  }

  private emit(type: string, payload: Item): void {
    if (!this.streaming) return;
    this.sse += `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...payload })}\n\n`;
  }

  /** An event from its JSON after `sequence_number` (`rest`: "" or starting with a comma); `type` is plain ASCII. */
  private emitRaw(type: string, rest: string): void {
    this.sse += `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.seq++}${rest}}\n\n`;
  }

  private add(prefix: string, item: (id: string) => Item): { index: number; id: string } {
    const id = itemId(this.x.responseId, prefix, this.items++);
    const index = this.output.length;
    const it = item(id);
    this.output.push(it);
    this.replay.push(it);
    if (this.streaming) {
      const json = JSON.stringify(it);
      this.itemJson.push(json);
      this.emitRaw("response.output_item.added", `,"output_index":${index},"item":${json}`);
    }
    return { index, id };
  }

  /** Closes an item; `json`, when given, is `item` already serialised. */
  private done(index: number, item: Item, replay: Item = item, json?: string): void {
    this.output[index] = item;
    this.replay[index] = replay;
    if (this.streaming) {
      const j = json ?? JSON.stringify(item);
      this.itemJson[index] = j;
      this.emitRaw("response.output_item.done", `,"output_index":${index},"item":${j}`);
    }
  }

  private messageDelta(text: string): void {
    let m = this.open;
    if (m?.kind !== "message") {
      this.closeOpen();
      const { index, id } = this.add("msg", (id) => ({ id, type: "message", status: "in_progress", role: "assistant", content: [] }));
      this.emit("response.content_part.added", { item_id: id, output_index: index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
      m = this.open = { kind: "message", index, id, text: "", ids: `"item_id":"${id}","output_index":${index},"content_index":0` };
    }
    m.text += text;
    if (this.streaming) this.sse += deltaFrame("response.output_text.delta", this.seq++, m.ids, text, ',"logprobs":[]');
  }

  private openReasoning(): Extract<Open, { kind: "reasoning" }> {
    this.closeOpen();
    const { index, id } = this.add("rs", (id) => ({ id, type: "reasoning", summary: [] }));
    const r = { kind: "reasoning" as const, index, id, text: "", partOpen: false, ids: `"item_id":"${id}","output_index":${index},"summary_index":0` };
    this.open = r;
    return r;
  }

  private openTool(callId: string, name: string): void {
    const t = this.x.tools;
    const form = t.custom.has(name) ? "custom" : t.localShell && name === LOCAL_SHELL ? "shell" : "function";
    const ns = t.namespaces.get(name);
    const { index, id } =
      form === "custom"
        ? this.add("ctc", (id) => ({ id, type: "custom_tool_call", status: "in_progress", call_id: callId, name, input: "" }))
        : form === "shell"
          ? this.add("lsh", (id) => ({ id, type: "local_shell_call", status: "in_progress", call_id: callId, action: { type: "exec", command: [], env: {} } }))
          : this.add("fc", (id) => ({ id, type: "function_call", status: "in_progress", call_id: callId, name, arguments: "", ...(ns ? { namespace: ns } : {}) }));
    this.open = { kind: "tool", index, id, callId, name, args: "", form };
  }

  private closeOpen(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    if (o.kind === "message") {
      const annotations = this.searches.annotations(o.text);
      annotations.forEach((annotation, i) => this.emit("response.output_text.annotation.added", { item_id: o.id, output_index: o.index, content_index: 0, annotation_index: i, annotation }));
      const part = { type: "output_text", text: o.text, annotations };
      const item = { id: o.id, type: "message", status: "completed", role: "assistant", content: [{ ...part, logprobs: [] }] };
      if (!this.streaming) return this.done(o.index, item);
      // The whole answer's text is serialised once for the three events that carry it.
      const text = JSON.stringify(o.text);
      const partJson = `{"type":"output_text","text":${text},"annotations":${JSON.stringify(annotations)}`;
      this.emitRaw("response.output_text.done", `,${o.ids},"text":${text},"logprobs":[]`);
      this.emitRaw("response.content_part.done", `,${o.ids},"part":${partJson}}`);
      this.done(o.index, item, item, `{"id":"${o.id}","type":"message","status":"completed","role":"assistant","content":[${partJson},"logprobs":[]}]}`);
    } else if (o.kind === "reasoning") {
      const summary = o.text ? [{ type: "summary_text", text: o.text }] : [];
      if (o.partOpen) {
        this.emit("response.reasoning_summary_text.done", { item_id: o.id, output_index: o.index, summary_index: 0, text: o.text });
        this.emit("response.reasoning_summary_part.done", { item_id: o.id, output_index: o.index, summary_index: 0, part: summary[0] });
      }
      const enc = encodeReasoning(o.text, o.signature);
      const item = { id: o.id, type: "reasoning", summary, encrypted_content: this.x.includeEncrypted ? enc : null };
      this.done(o.index, item, { ...item, encrypted_content: enc });
    } else if (o.form === "custom") {
      const input = freeformInput(o.args);
      if (input) this.emit("response.custom_tool_call_input.delta", { item_id: o.id, output_index: o.index, delta: input });
      this.emit("response.custom_tool_call_input.done", { item_id: o.id, output_index: o.index, input });
      this.done(o.index, { id: o.id, type: "custom_tool_call", status: "completed", call_id: o.callId, name: o.name, input });
    } else if (o.form === "shell") {
      this.done(o.index, { id: o.id, type: "local_shell_call", status: "completed", call_id: o.callId, action: shellAction(o.args) });
    } else {
      const args = o.args.trim() ? o.args : "{}";
      const ns = this.x.tools.namespaces.get(o.name);
      this.emit("response.function_call_arguments.done", { item_id: o.id, output_index: o.index, name: o.name, arguments: args });
      this.done(o.index, { id: o.id, type: "function_call", status: "completed", call_id: o.callId, name: o.name, arguments: args, ...(ns ? { namespace: ns } : {}) });
    }
  }

  /** Held JSON-format text before a tool call: not the final answer, so sent unchecked. */
  private releaseHeld(): void {
    if (this.held === undefined) return;
    const text = this.held;
    this.held = undefined;
    if (text) {
      this.messageDelta(text);
      this.closeOpen();
    }
  }

  private reasoningShare(): number {
    const all = this.thinkingChars + this.otherChars;
    return all ? this.thinkingChars / all : 0;
  }
}

/**
 * A freeform call's text from the model's JSON `{"input": "…"}`: the `input` string; a lone
 * string under another key; else the JSON itself (so nothing the model wrote is lost).
 */
export function freeformInput(args: string): string {
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    return args;
  }
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.input === "string") return o.input;
    const values = Object.values(o);
    if (values.length === 1 && typeof values[0] === "string") return values[0];
  }
  return args;
}

function shellAction(args: string): Item {
  let v: Record<string, unknown> = {};
  try {
    const p = JSON.parse(args);
    if (p && typeof p === "object" && !Array.isArray(p)) v = p;
  } catch {
    // keep the empty action: the client reports the failed command to the model
  }
  const command = Array.isArray(v.command) ? v.command.map(String) : typeof v.command === "string" ? ["bash", "-lc", v.command] : [];
  const action: Item = { type: "exec", command, env: v.env && typeof v.env === "object" ? v.env : {} };
  if (typeof v.workdir === "string") action.working_directory = v.workdir;
  if (typeof v.timeout_ms === "number") action.timeout_ms = v.timeout_ms;
  return action;
}

/**
 * Canonical usage → Responses usage. `input_tokens` includes cached tokens (OpenAI semantics);
 * `reasoning_tokens` (a part of `output_tokens`) is the thinking share of what the model wrote.
 */
export function responsesUsage(u: Partial<Usage>, reasoningShare = 0): Item {
  const cached = u.cacheReadInputTokens ?? 0;
  const input = (u.inputTokens ?? 0) + cached + (u.cacheWriteInputTokens ?? 0);
  const output = u.outputTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: Math.round(output * reasoningShare) },
    total_tokens: input + output,
  };
}
