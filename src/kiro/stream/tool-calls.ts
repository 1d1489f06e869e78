/**
 * toolUseEvent fragment assembly (kiro-upstream.md §6.5).
 *
 * Upstream: calls keyed by toolUseId; `name` in every frame (last wins); `input` string fragments
 * concatenated in arrival order; `stop:true` completes the call. Canonical contract: tool_start,
 * tool_args*, tool_end per call and calls NEVER interleave — so fragments of a second call that
 * arrive while the first is still open are buffered and replayed once the first one ends.
 */
import type { CanonicalEvent } from "../../core/canonical";

type Call = {
  id: string;
  name: string;
  fragments: string[];
  /** Concatenated input, kept to validate the JSON at stop. */
  input: string;
  started: boolean;
  stopped: boolean;
};

export type ToolUseFrame = { toolUseId?: unknown; name?: unknown; input?: unknown; stop?: unknown };

export class ToolCallAssembler {
  /** Calls not yet fully emitted, in first-seen order; queue[0] is the one being streamed. */
  private queue: Call[] = [];
  private byId = new Map<string, Call>();
  private done = new Set<string>();
  /** Calls that reached stop:true with valid JSON. */
  completed = 0;
  /** Calls whose input was not valid JSON at stop, or never stopped (truncated output). */
  incomplete = 0;

  constructor(private readonly restoreToolName: (name: string) => string) {}

  /** True while a call is open (started, not ended): text must wait so blocks don't interleave. */
  get open(): boolean {
    return this.queue.length > 0 && this.queue[0]!.started;
  }

  push(f: ToolUseFrame): CanonicalEvent[] {
    // The SDK/LSP ignore frames without a toolUseId; so do we.
    if (typeof f.toolUseId !== "string" || !f.toolUseId) return [];
    const id = f.toolUseId;
    // A frame for an already finished call (JW: "duplicate tool calls from Kiro") would yield a
    // second tool_use block with the same id, which clients reject: drop it.
    if (this.done.has(id)) return [];
    let call = this.byId.get(id);
    if (!call) {
      call = { id, name: "", fragments: [], input: "", started: false, stopped: false };
      this.byId.set(id, call);
      this.queue.push(call);
    }
    if (typeof f.name === "string" && f.name) call.name = f.name;
    let input = f.input;
    // KRS2 tolerance: an object input is re-encoded rather than lost.
    if (input !== undefined && input !== null && typeof input !== "string") input = JSON.stringify(input);
    if (typeof input === "string" && input) {
      call.fragments.push(input);
      call.input += input;
    }
    if (f.stop === true) call.stopped = true;
    return this.drain(false);
  }

  /** End of stream: emit whatever is buffered, closing open calls so the stream stays well-formed. */
  finish(): CanonicalEvent[] {
    return this.drain(true);
  }

  private drain(eof: boolean): CanonicalEvent[] {
    const out: CanonicalEvent[] = [];
    while (this.queue.length) {
      const c = this.queue[0]!;
      if (!c.started) {
        out.push({ type: "tool_start", id: c.id, name: this.restoreToolName(c.name) });
        c.started = true;
      }
      for (const json of c.fragments) out.push({ type: "tool_args", id: c.id, json });
      c.fragments = [];
      if (!c.stopped && !eof) break;
      if (c.input === "") out.push({ type: "tool_args", id: c.id, json: "{}" }); // "" → {} (LSP rule)
      if (c.stopped && isJson(c.input)) this.completed++;
      else this.incomplete++; // truncated: the decoder ends the turn with max_tokens (§6.5)
      out.push({ type: "tool_end", id: c.id });
      this.queue.shift();
      this.byId.delete(c.id);
      this.done.add(c.id);
    }
    return out;
  }
}

function isJson(s: string): boolean {
  if (s === "") return true;
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
