/**
 * toolUseEvent fragment assembly (kiro-upstream.md §6.5).
 *
 * Upstream: calls keyed by toolUseId; `name` in every frame (last wins); `input` string fragments
 * concatenated in arrival order; `stop:true` completes the call. Canonical contract: tool_start,
 * tool_args*, tool_end per call and calls NEVER interleave.
 *
 * A call is held back until it is complete (stop:true and its input parses as JSON) and then
 * emitted whole, fragments unchanged. The upstream's output cap can end the answer inside a long
 * argument (a big Write or Edit): such a call, and one whose input is not valid JSON at stop, is
 * never emitted — a client must never receive a tool call it cannot parse. It is counted in
 * `incomplete` and described in `cut` so the decoder can end the turn with max_tokens and tell
 * the model (see truncatedCallNote). While a call is held back, the first frame of every call
 * yields an empty usage event: it carries no numbers, only tells the consumer that the upstream
 * is alive (a call can take minutes to arrive, longer than a first-event timeout).
 */
import type { CanonicalEvent } from "../../core/canonical";

type Call = {
  id: string;
  name: string;
  fragments: string[];
  /** Concatenated input, kept to validate the JSON at stop. */
  input: string;
  stopped: boolean;
};

/** A call that was dropped because its input was cut off or is not valid JSON. */
export type CutCall = { id: string; name: string; inputChars: number };

export type ToolUseFrame = { toolUseId?: unknown; name?: unknown; input?: unknown; stop?: unknown };

export class ToolCallAssembler {
  /** Calls not yet emitted, in first-seen order; they go out in this order once complete. */
  private queue: Call[] = [];
  private byId = new Map<string, Call>();
  private done = new Set<string>();
  /** Calls that reached stop:true with valid JSON. */
  completed = 0;
  /** Calls whose input was not valid JSON at stop, or never stopped (truncated output). */
  incomplete = 0;
  /** The dropped calls, in order (names already restored). */
  readonly cut: CutCall[] = [];

  constructor(private readonly restoreToolName: (name: string) => string) {}

  /** True while a call is held back: text must wait so blocks don't interleave. */
  get open(): boolean {
    return this.queue.length > 0;
  }

  push(f: ToolUseFrame): CanonicalEvent[] {
    // The SDK/LSP ignore frames without a toolUseId; so do we.
    if (typeof f.toolUseId !== "string" || !f.toolUseId) return [];
    const id = f.toolUseId;
    // A frame for an already finished call (JW: "duplicate tool calls from Kiro") would yield a
    // second tool_use block with the same id, which clients reject: drop it.
    if (this.done.has(id)) return [];
    let call = this.byId.get(id);
    const isNew = !call;
    if (!call) {
      call = { id, name: "", fragments: [], input: "", stopped: false };
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
    const out = this.drain(false);
    // A new call: tell the consumer the upstream is alive (no numbers) while the call is held back.
    if (isNew) out.unshift({ type: "usage", usage: {} });
    return out;
  }

  /** End of stream: emit the complete calls still queued; drop (and record) the unfinished ones. */
  finish(): CanonicalEvent[] {
    return this.drain(true);
  }

  private drain(eof: boolean): CanonicalEvent[] {
    const out: CanonicalEvent[] = [];
    while (this.queue.length) {
      const c = this.queue[0]!;
      if (!c.stopped && !eof) break;
      const name = this.restoreToolName(c.name);
      if (c.stopped && isJson(c.input)) {
        this.completed++;
        out.push({ type: "tool_start", id: c.id, name });
        for (const json of c.fragments) out.push({ type: "tool_args", id: c.id, json });
        if (c.input === "") out.push({ type: "tool_args", id: c.id, json: "{}" }); // "" → {} (LSP rule)
        out.push({ type: "tool_end", id: c.id });
      } else {
        // Cut off by the output cap, or broken JSON: never sent (the decoder ends with max_tokens).
        this.incomplete++;
        this.cut.push({ id: c.id, name, inputChars: c.input.length });
      }
      this.queue.shift();
      this.byId.delete(c.id);
      this.done.add(c.id);
    }
    return out;
  }
}

/**
 * What the answer says when calls were dropped. It becomes part of the assistant's text, so the
 * model reads it in the history of the next turn and knows its call did not run and why.
 */
export function truncatedCallNote(cut: readonly CutCall[]): string {
  const calls = cut.map((c) => `\`${c.name}\` (after ${c.inputChars.toLocaleString("en-US")} characters of arguments)`).join(", ");
  const what = cut.length === 1 ? "call" : "calls";
  return (
    `\n\n[kiro-server: the upstream's output limit cut off the tool ${what} ${calls} before ${cut.length === 1 ? "it was" : "they were"} complete, ` +
    `so ${cut.length === 1 ? "it was" : "they were"} not sent and did not run. Do the same work again in smaller pieces: ` +
    `split large file contents or edits across several smaller tool calls.]`
  );
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
