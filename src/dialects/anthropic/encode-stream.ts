/**
 * CanonicalEvents → Anthropic SSE. One instance per response.
 * Every frame is `event: <name>\ndata: <json>\n\n` with `type` equal to the event name; blocks
 * are indexed 0, 1, 2 … in order and never interleave; the stream ends with one message_delta
 * (stop_reason + cumulative usage) and one message_stop. Frames are built as strings by hand:
 * this runs once per upstream frame and is the hot path of every streamed answer.
 */
import type { CanonicalEvent, Usage } from "../../core/canonical";
import { serverToolUsageJson, webSearchBlockSse } from "./web-search";

type Open = "text" | "thinking" | "tool_use" | null;

export function newMessageId(): string {
  return "msg_" + Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
}

export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const PING_FRAME = 'event: ping\ndata: {"type":"ping"}\n\n';

/** Anthropic's usage object; `server_tool_use` only for answers of a request that declared a server tool. */
export function usageJson(u: Usage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: u.cacheWriteInputTokens ?? 0,
    cache_read_input_tokens: u.cacheReadInputTokens ?? 0,
  };
  if (u.webSearchRequests !== undefined) out.server_tool_use = serverToolUsageJson(u.webSearchRequests);
  return out;
}

export class AnthropicStreamEncoder {
  private next = 0;
  private open: Open = null;
  private index = -1;
  private signature = "";
  private toolHadArgs = false;
  private usage?: Usage;
  /** True once message_stop was written. */
  finished = false;

  constructor(
    readonly id: string,
    private readonly model: string,
    private readonly inputTokens: number,
  ) {}

  /** message_start (and a first ping, as the real API sends). */
  start(): string {
    const message = {
      id: this.id,
      type: "message",
      role: "assistant",
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: this.inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return frame("message_start", { type: "message_start", message }) + PING_FRAME;
  }

  /** The frames for one event ("" when it produces none). */
  event(ev: CanonicalEvent): string {
    switch (ev.type) {
      case "text": {
        if (!ev.text) return "";
        const pre = this.open === "text" ? "" : this.openBlock("text", '{"type":"text","text":""}');
        return (
          pre +
          `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.index},"delta":{"type":"text_delta","text":${JSON.stringify(ev.text)}}}\n\n`
        );
      }
      case "thinking": {
        let s = this.open === "thinking" ? "" : this.openBlock("thinking", '{"type":"thinking","thinking":"","signature":""}');
        if (ev.text) {
          s += `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.index},"delta":{"type":"thinking_delta","thinking":${JSON.stringify(ev.text)}}}\n\n`;
        }
        // Only a real upstream signature is ever sent; it goes out once, just before the block stops.
        if (ev.signature) this.signature = ev.signature;
        return s;
      }
      case "tool_start":
        this.toolHadArgs = false;
        return this.openBlock("tool_use", JSON.stringify({ type: "tool_use", id: ev.id, name: ev.name, input: {} }));
      case "tool_args":
        if (this.open !== "tool_use" || !ev.json) return "";
        this.toolHadArgs = true;
        return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(ev.json)}}}\n\n`;
      case "tool_end":
        return this.closeBlock();
      case "usage":
        this.usage = { inputTokens: ev.usage.inputTokens ?? this.inputTokens, outputTokens: ev.usage.outputTokens ?? 0, ...ev.usage } as Usage;
        return "";
      case "stop": {
        const usage = this.usage ?? { inputTokens: this.inputTokens, outputTokens: 0 };
        this.finished = true;
        return (
          this.closeBlock() +
          frame("message_delta", {
            type: "message_delta",
            delta: { stop_reason: ev.reason, stop_sequence: ev.stopSequence ?? null },
            usage: usageJson(usage),
          }) +
          'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        );
      }
      default:
        // Server-tool blocks (web search) and cited text: each a whole block of its own.
        return this.closeBlock() + webSearchBlockSse(ev, this.next++);
    }
  }

  /** `event: error` for a failure after the 200; nothing may follow it. */
  error(type: string, message: string): string {
    this.finished = true;
    return frame("error", { type: "error", error: { type, message } });
  }

  private openBlock(kind: Exclude<Open, null>, blockJson: string): string {
    const pre = this.closeBlock();
    this.open = kind;
    this.index = this.next++;
    return pre + `event: content_block_start\ndata: {"type":"content_block_start","index":${this.index},"content_block":${blockJson}}\n\n`;
  }

  private closeBlock(): string {
    if (this.open === null) return "";
    let s = "";
    if (this.open === "thinking" && this.signature) {
      s += frame("content_block_delta", { type: "content_block_delta", index: this.index, delta: { type: "signature_delta", signature: this.signature } });
      this.signature = "";
    }
    // A tool with no arguments still gets one empty input_json_delta (clients read "" as {}).
    if (this.open === "tool_use" && !this.toolHadArgs) {
      s += `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.index},"delta":{"type":"input_json_delta","partial_json":""}}\n\n`;
    }
    s += `event: content_block_stop\ndata: {"type":"content_block_stop","index":${this.index}}\n\n`;
    this.open = null;
    return s;
  }
}
