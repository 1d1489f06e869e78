import { describe, expect, test } from "bun:test";
import { decodeAnthropicRequest as decodeWith, type DecodeOptions } from "../../src/dialects/anthropic/decode";
import { TurnError } from "../../src/core/errors";
import { model } from "../support/models";

/** The decoder as the dialect route calls it: models resolved through the catalogue. */
const decodeAnthropicRequest = (body: unknown, opts: Partial<DecodeOptions> = {}) => decodeWith(body, { resolveModel: model, ...opts });

const base = { model: "claude-sonnet-4-6", max_tokens: 100 };
const HI = [{ role: "user", content: "hi" }];
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
    expect(decode({ messages: HI, thinking: { type: "enabled", budget_tokens: 2000 }, max_tokens: 4000 }).thinking).toEqual({ type: "enabled", budgetTokens: 2000 });
  });

  test("conversation id: X-Conversation-Id, else Claude Code's JSON user_id session, else the raw string", () => {
    const json = JSON.stringify({ device_id: "d", account_uuid: "", session_id: "sess-1" });
    expect(decode({ messages: HI, metadata: { user_id: json } }).metadata.conversationId).toBe("sess-1");
    expect(decode({ messages: HI, metadata: { user_id: "plain" } }).metadata.conversationId).toBe("plain");
    expect(decode({ messages: HI, metadata: { user_id: json } }, { conversationHeader: "hdr" }).metadata.conversationId).toBe("hdr");
  });

  test("400s name the field", () => {
    expect(fails({ messages: HI, max_tokens: undefined }).message).toContain("max_tokens");
    expect(fails({ messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/bmp", data: "x" } }] }] }).param).toBe(
      "messages.0.content.0.source.media_type",
    );
    expect(fails({ messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "x" } }] }] }).message).toContain("document source");
    expect(fails({ messages: HI, thinking: { type: "enabled", budget_tokens: 5000 } }).param).toBe("thinking.budget_tokens");
    expect(fails({ messages: HI, tool_choice: { type: "tool", name: "missing" } }).param).toBe("tool_choice.name");
  });

  test("every 400 message starts with the full path of the field at fault", () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ messages: HI, max_tokens: "10" }, "max_tokens", /must be a number, not a string/],
      [{ messages: HI, max_tokens: 1.5 }, "max_tokens", /integer/],
      [{ messages: HI, max_tokens: undefined }, "max_tokens", /Field required/],
      [{ messages: HI, temperature: 1.5 }, "temperature", /at most 1/],
      [{ messages: HI, temperature: "warm" }, "temperature", /must be a number/],
      [{ messages: HI, top_k: -1 }, "top_k", /at least 0/],
      [{ messages: HI, model: undefined }, "model", /Field required/],
      [{ messages: HI, model: "" }, "model", /must not be empty/],
      [{ messages: HI, stream: "yes" }, "stream", /boolean/],
      [{ messages: HI, tools: [{ name: "a", input_schema: {} }, { name: "b", input_schema: {} }, { name: "", input_schema: {} }] }, "tools.2.name", /must not be empty/],
      [{ messages: HI, tools: [{ name: "a" }] }, "tools.0.input_schema", /Field required/],
      [{ messages: [{ role: "user", content: 5 }] }, "messages.0.content", /string or an array/],
      [{ messages: [{ role: "robot", content: "x" }] }, "messages.0.role", /user/],
      [
        { messages: [{ role: "user", content: [{ type: "text", text: "x" }, { type: "image", source: { type: "base64", media_type: "image/bmp", data: "x" } }] }] },
        "messages.0.content.1.source.media_type",
        /image\/png/,
      ],
      [{ messages: [{ role: "user", content: [{ type: "text", text: 7 }] }] }, "messages.0.content.0.text", /string/],
    ];
    for (const [body, path, wording] of cases) {
      const e = fails(body);
      expect(e).toBeInstanceOf(TurnError);
      expect(e.status).toBe(400);
      expect(e.param).toBe(path);
      expect(e.message.startsWith(`${path}: `)).toBe(true);
      expect(e.message).toMatch(wording);
      // One prefix, not two.
      expect(e.message.startsWith(`${path}: ${path}`)).toBe(false);
    }
    // A present but mistyped max_tokens is not "missing".
    expect(fails({ messages: HI, max_tokens: "10" }).message).not.toContain("Field required");
  });

  test("empty messages and an empty final user turn are 400s, never an invented prompt", () => {
    expect(fails({ messages: [] }).message).toBe("messages: at least one message is required");
    expect(() => decodeAnthropicRequest({ model: "claude-sonnet-4-6", messages: [] }, { forCounting: true })).toThrow("at least one message is required");
    expect(fails({ messages: [{ role: "system", content: "only a system message" }] }).message).toContain("at least one user or assistant message");
    const onlyUnknown = fails({ messages: [{ role: "user", content: [{ type: "future_block", x: 1 }] }] });
    expect(onlyUnknown.param).toBe("messages.0.content");
    expect(onlyUnknown.message).toContain("no usable content");
    expect(fails({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }, { role: "user", content: "" }] }).param).toBe("messages.2.content");
    // Unknown blocks next to real content are still just dropped.
    expect(decode({ messages: [{ role: "user", content: [{ type: "future_block" }, { type: "text", text: "ok" }] }] }).messages[0]!.content).toEqual([{ type: "text", text: "ok" }]);
    // A tool_result alone is content; an assistant prefill may end the list.
    expect(decode({ messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t1" }] }] }).messages.length).toBe(1);
    expect(decode({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "Sure," }] }).messages.length).toBe(2);
  });
});

describe("model resolution at decode", () => {
  test("the request carries the resolved model (family fallback included)", () => {
    expect(decode({ messages: HI }).model).toMatchObject({ requested: "claude-sonnet-4-6", upstreamId: "claude-sonnet-4.6", contextWindow: 1_000_000 });
    expect(decode({ model: "claude-opus-5-5", messages: HI }).model).toMatchObject({ requested: "claude-opus-5-5", name: "claude-opus-4-6", upstreamId: "claude-opus-4.6" });
  });

  test("an unknown model is a 404 on `model`, reported after a malformed body (count_tokens too)", () => {
    const nf = fails({ model: "gpt-4o", messages: HI });
    expect(nf).toMatchObject({ kind: "not_found", status: 404, param: "model" });
    expect(nf.message).toContain("valid models: claude-sonnet-4-5");
    expect(fails({ model: "gpt-4o", messages: HI, max_tokens: 0 }).param).toBe("max_tokens");
    expect(() => decodeAnthropicRequest({ model: "gpt-4o", messages: HI }, { forCounting: true })).toThrow(/valid models/);
  });
});
