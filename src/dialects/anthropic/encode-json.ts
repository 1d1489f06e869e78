/**
 * CanonicalEvents → one non-stream Anthropic Message:
 * the same blocks, in the same order, as the stream encoder would produce.
 */
import type { CanonicalEvent, StopReason, Usage } from "../../core/canonical";
import { usageJson } from "./encode-stream";
import { webSearchBlockJson } from "./web-search";

type Block =
  /** A block already in its wire form (server-tool blocks, cited text). */
  | { type: "wire"; block: Record<string, unknown> }
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: unknown; _json: string };

export class AnthropicMessageFolder {
  private content: Block[] = [];
  private open: Block | null = null;
  private stopReason: StopReason = "end_turn";
  private stopSequence: string | null = null;
  private usage?: Usage;

  constructor(private readonly id: string, private readonly model: string, private readonly inputTokens: number) {}

  add(ev: CanonicalEvent): void {
    switch (ev.type) {
      case "text":
        if (!ev.text) return;
        if (this.open?.type !== "text") this.push({ type: "text", text: "" });
        (this.open as { text: string }).text += ev.text;
        return;
      case "thinking":
        if (this.open?.type !== "thinking") this.push({ type: "thinking", thinking: "", signature: "" });
        (this.open as { thinking: string }).thinking += ev.text;
        if (ev.signature) (this.open as { signature: string }).signature = ev.signature;
        return;
      case "tool_start":
        this.push({ type: "tool_use", id: ev.id, name: ev.name, input: {}, _json: "" });
        return;
      case "tool_args":
        if (this.open?.type === "tool_use") this.open._json += ev.json;
        return;
      case "tool_end":
        this.open = null;
        return;
      case "usage":
        this.usage = { inputTokens: ev.usage.inputTokens ?? this.inputTokens, outputTokens: ev.usage.outputTokens ?? 0, ...ev.usage } as Usage;
        return;
      case "stop":
        this.stopReason = ev.reason;
        this.stopSequence = ev.stopSequence ?? null;
        this.open = null;
        return;
      default:
        this.content.push({ type: "wire", block: webSearchBlockJson(ev) });
        this.open = null;
        return;
    }
  }

  message(): Record<string, unknown> {
    const content = this.content.map((b) => {
      if (b.type === "wire") return b.block;
      if (b.type !== "tool_use") return b.type === "text" ? { type: "text", text: b.text, citations: null } : b;
      return { type: "tool_use", id: b.id, name: b.name, input: parseInput(b._json) };
    });
    return {
      id: this.id,
      type: "message",
      role: "assistant",
      model: this.model,
      content,
      stop_reason: this.stopReason,
      stop_sequence: this.stopSequence,
      usage: { ...usageJson(this.usage ?? { inputTokens: this.inputTokens, outputTokens: 0 }), service_tier: "standard" },
    };
  }

  private push(b: Block): void {
    this.content.push(b);
    this.open = b;
  }
}

/** The tool input object ("" → {}; the decoder guarantees complete JSON, this guards the rest). */
function parseInput(json: string): unknown {
  if (!json.trim()) return {};
  try {
    const v = JSON.parse(json);
    return v && typeof v === "object" && !Array.isArray(v) ? v : { value: v };
  } catch {
    return {};
  }
}
