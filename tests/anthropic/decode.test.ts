import { describe, expect, test } from "bun:test";
import { decodeAnthropicRequest } from "../../src/dialects/anthropic/decode";
import { TurnError } from "../../src/core/errors";

const base = { model: "claude-sonnet-4-6", max_tokens: 100 };
const decode = (body: Record<string, unknown>, opts = {}) => decodeAnthropicRequest({ ...base, ...body }, opts).req;
const fails = (body: Record<string, unknown>): TurnError => {
  try {
    decodeAnthropicRequest({ ...base, ...body });
  } catch (e) {
    return e as TurnError;
  }
  throw new Error("expected a 400");
};

describe("anthropic decode", () => {
  test("system blocks and role:system messages fold into the system text in order", () => {
    const r = decode({
      system: [{ type: "text", text: "A", cache_control: { type: "ephemeral" } }, { type: "text", text: "B" }],
      messages: [{ role: "user", content: "hi" }, { role: "system", content: "C" }],
    });
    expect(r.system).toBe("A\n\nB\n\nC");
    expect(r.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }]);
  });

  test("consecutive same-role turns merge; thinking kept with its signature; redacted dropped", () => {
    const r = decode({
      messages: [
        { role: "user", content: "a" },
        { role: "user", content: [{ type: "text", text: "b" }] },
        { role: "assistant", content: [{ type: "thinking", thinking: "t", signature: "s" }, { type: "redacted_thinking", data: "x" }, { type: "text", text: "c" }] },
      ],
    });
    expect(r.messages[0]!.content).toEqual([{ type: "text", text: "a" }, { type: "text", text: "b" }]);
    expect(r.messages[1]!.content).toEqual([{ type: "thinking", text: "t", signature: "s" }, { type: "text", text: "c" }]);
  });

  test("tool_result: string or blocks, is_error, text documents, tool_reference", () => {
    const r = decode({
      messages: [
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "ok", is_error: true },
            { type: "tool_result", tool_use_id: "t2", content: [{ type: "text", text: "x" }, { type: "tool_reference", tool_name: "Bash" }] },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "doc body" }, title: "Notes" },
          ],
        },
      ],
    });
    expect(r.messages[0]!.content).toEqual([
      { type: "tool_result", toolUseId: "t1", content: [{ type: "text", text: "ok" }], isError: true },
      { type: "tool_result", toolUseId: "t2", content: [{ type: "text", text: "x" }, { type: "text", text: "Tool loaded: Bash" }] },
      { type: "text", text: "Document: Notes\ndoc body" },
    ]);
  });

  test("thinking, effort, tool_choice, stop sequences, sampling", () => {
    const r = decode({
      messages: [{ role: "user", content: "x" }],
      thinking: { type: "adaptive", display: "omitted" },
      output_config: { effort: "xhigh" },
      tools: [{ name: "f", input_schema: { type: "object" } }],
      tool_choice: { type: "tool", name: "f", disable_parallel_tool_use: true },
      stop_sequences: ["END"],
      temperature: 0.5,
      top_k: 5,
      context_management: { edits: [] },
      some_future_field: true,
    });
    expect(r.thinking).toEqual({ type: "adaptive", effort: "max" });
    expect(r.toolChoice).toEqual({ type: "tool", name: "f" });
    expect(r.parallelToolCalls).toBe(false);
    expect(r.stopSequences).toEqual(["END"]);
    expect(r.temperature).toBe(0.5);
    expect(decode({ messages: [], thinking: { type: "enabled", budget_tokens: 2000 }, max_tokens: 4000 }).thinking).toEqual({ type: "enabled", budgetTokens: 2000 });
  });

  test("conversation id: X-Conversation-Id, else Claude Code's JSON user_id session, else the raw string", () => {
    const json = JSON.stringify({ device_id: "d", account_uuid: "", session_id: "sess-1" });
    expect(decode({ messages: [], metadata: { user_id: json } }).metadata.conversationId).toBe("sess-1");
    expect(decode({ messages: [], metadata: { user_id: "plain" } }).metadata.conversationId).toBe("plain");
    expect(decode({ messages: [], metadata: { user_id: json } }, { conversationHeader: "hdr" }).metadata.conversationId).toBe("hdr");
  });

  test("400s name the field", () => {
    expect(fails({ messages: [], max_tokens: undefined }).message).toContain("max_tokens");
    expect(fails({ messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/bmp", data: "x" } }] }] }).param).toBe(
      "messages.0.content.0.source.media_type",
    );
    expect(fails({ messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "x" } }] }] }).message).toContain("document source");
    expect(fails({ messages: [], thinking: { type: "enabled", budget_tokens: 5000 } }).param).toBe("thinking.budget_tokens");
    expect(fails({ messages: [], tool_choice: { type: "tool", name: "missing" } }).param).toBe("tool_choice.name");
  });
});
