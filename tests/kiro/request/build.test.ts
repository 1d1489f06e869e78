import { describe, expect, test } from "bun:test";
import { KiroError } from "../../../src/kiro/errors";
import { buildKiroRequest, upstreamConversationId } from "../../../src/kiro/request/build";
import { CANCELLED_RESULT } from "../../../src/kiro/request/history";
import { PLACEHOLDER_DESCRIPTION } from "../../../src/kiro/request/tools";
import { validateGenerateAssistantRequest } from "../../fake-kiro/validator";
import {
  JPEG_16, PNG_1x1, assistant, cur, entries, model, pngOfSize, req, tool, toolResult, toolUse, user,
} from "./helpers";

function build(r = req(), opts = {}) {
  const out = buildKiroRequest(r, opts);
  const v = validateGenerateAssistantRequest(out.body);
  if (!v.ok) throw new Error(`validator: ${v.message}\n${JSON.stringify(out.body).slice(0, 2000)}`);
  return out;
}
const roles = (body: any) => entries(body).map((e) => ("userInputMessage" in e ? "U" : "A")).join("");
const history = (body: any) => body.conversationState.history ?? [];

describe("envelope", () => {
  test("fields of §4.1: trigger, task type, origin, modelId on current, profileArn", () => {
    const arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF";
    const { body, modelId } = build(req(), { profileArn: arn, conversationId: "conv-1" });
    expect(modelId).toBe("claude-sonnet-4.5");
    expect(body.conversationState.chatTriggerType).toBe("MANUAL");
    expect(body.conversationState.agentTaskType).toBe("vibe");
    expect(body.conversationState.conversationId).toBe(upstreamConversationId("conv-1"));
    expect(body.profileArn).toBe(arn);
    expect(cur(body)).toEqual({ content: "hi", origin: "AI_EDITOR", modelId: "claude-sonnet-4.5" });
    expect("agentMode" in body).toBe(false); // header, not body
  });

  test("conversation ids: UUIDs kept, other keys hashed to a stable UUID, none → fresh uuid4", () => {
    const u = "0b4445e1-f5be-49e1-87ce-62bbc28ad705";
    expect(upstreamConversationId(u)).toBe(u);
    expect(upstreamConversationId("user_abc_session")).toBe(upstreamConversationId("user_abc_session"));
    expect(upstreamConversationId("user_abc_session")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(upstreamConversationId(undefined)).not.toBe(upstreamConversationId(undefined));
    const { body } = build(req({ metadata: { dialect: "openai", conversationId: u } }));
    expect(body.conversationState.conversationId).toBe(u);
  });

  test("legacy model id on request", () => {
    const { modelId, body } = build(req(), { useLegacyModelId: true });
    expect(modelId).toBe("CLAUDE_SONNET_4_5_20250929_V1_0");
    expect(cur(body).modelId).toBe(modelId);
  });

  test("sends the upstream id the decoder resolved (aliases and substitutes included)", () => {
    expect(cur(build(req({ model: model("claude-3-7-sonnet-20250219") })).body).modelId).toBe("claude-sonnet-4.5");
    expect(cur(build(req({ model: model("claude-opus-4-1") })).body).modelId).toBe("claude-opus-4.6");
    expect(build(req({ model: model("claude-haiku-4.5") })).modelId).toBe("claude-haiku-4.5");
  });
});

describe("rule 1–3: history shape and system prompt", () => {
  test("system text becomes the leading user + Working... pair", () => {
    const { body } = build(req({ system: "Be terse.", messages: [user("a"), assistant("b"), user("c")] }));
    expect(roles(body)).toBe("UAUAU");
    expect(history(body)[0].userInputMessage.content).toBe("Be terse.");
    expect(history(body)[1].assistantResponseMessage.content).toBe("Working...");
    expect(cur(body).content).toBe("c");
  });

  test("consecutive same-role messages are merged", () => {
    const { body } = build(req({ messages: [user("a"), user("b"), assistant("x"), assistant("y"), user("c")] }));
    expect(roles(body)).toBe("UAU");
    expect(history(body)[0].userInputMessage.content).toBe("a\n\nb");
    expect(history(body)[1].assistantResponseMessage.content).toBe("x\n\ny");
  });

  test("assistant-first conversations get a leading user entry", () => {
    const { body } = build(req({ messages: [assistant("hello"), user("hi")] }));
    expect(roles(body)).toBe("UAU");
    expect(history(body)[0].userInputMessage.content.trim()).not.toBe("");
  });

  test("assistant-first with a system prompt: the system entry is the leading user entry", () => {
    const { body } = build(req({ system: "S", messages: [assistant("hello"), user("hi")] }));
    expect(roles(body)).toBe("UAU");
    expect(history(body)[0].userInputMessage.content).toBe("S");
    expect(history(body)[1].assistantResponseMessage.content).toBe("hello");
  });

  test("rule 2: trailing assistant (prefill) moves to history, current says Continue", () => {
    const { body } = build(req({ messages: [user("q"), assistant("The answer is")] }));
    expect(roles(body)).toBe("UAU");
    expect(history(body)[1].assistantResponseMessage.content).toBe("The answer is");
    expect(cur(body).content).toBe("Continue");
  });

  test("system-only and empty requests still form a valid body", () => {
    expect(roles(build(req({ system: "only", messages: [] })).body)).toBe("UAU");
    expect(roles(build(req({ messages: [] })).body)).toBe("U");
  });

  test("responseFormatInstruction and tool-choice text are appended to the system text", () => {
    const { body } = build(req({
      system: "S", responseFormatInstruction: "Reply in JSON.", tools: [tool("Bash")], toolChoice: { type: "any" },
    }));
    const sys = history(body)[0].userInputMessage.content;
    expect(sys.startsWith("S\n\nReply in JSON.")).toBe(true);
    expect(sys).toContain("calling at least one of the available tools");
  });
});

describe("rule 4: content never empty where it matters", () => {
  test("empty and whitespace user turns become Continue; empty assistant turns (empty)", () => {
    const { body } = build(req({ messages: [user("  "), assistant(""), user("")] }));
    expect(history(body)[0].userInputMessage.content).toBe("Continue");
    expect(history(body)[1].assistantResponseMessage.content).toBe("(empty)");
    expect(cur(body).content).toBe("Continue");
  });

  test("tool-result turns carry empty content (official)", () => {
    const { body } = build(req({ tools: [tool("Bash")], messages: [user("go"), toolUse("t1", "Bash"), toolResult("t1", "ok")] }));
    expect(cur(body).content).toBe("");
    expect(history(body)[1].assistantResponseMessage.content).toBe("");
  });
});

describe("rule 5: tool pairing", () => {
  test("missing results are answered as cancelled errors; orphans and duplicates dropped", () => {
    const msgs = [
      user("go"),
      { role: "assistant" as const, content: [
        { type: "tool_use" as const, id: "a", name: "Bash", input: {} },
        { type: "tool_use" as const, id: "b", name: "Bash", input: {} },
      ] },
      { role: "user" as const, content: [
        { type: "tool_result" as const, toolUseId: "a", content: [{ type: "text" as const, text: "1" }] },
        { type: "tool_result" as const, toolUseId: "a", content: [{ type: "text" as const, text: "dup" }] },
        { type: "tool_result" as const, toolUseId: "zzz", content: [{ type: "text" as const, text: "orphan" }] },
      ] },
    ];
    const { body } = build(req({ tools: [tool("Bash")], messages: msgs }));
    const results = cur(body).userInputMessageContext.toolResults;
    expect(results).toEqual([
      { toolUseId: "a", content: [{ text: "1" }], status: "success" },
      { toolUseId: "b", content: [{ text: CANCELLED_RESULT }], status: "error" },
    ]);
  });

  test("is_error maps to status error; tool uses in the middle of history get answered", () => {
    const msgs = [user("go"), toolUse("a", "Bash"), user("never mind"), assistant("ok"), user("again"), toolUse("b", "Bash"), toolResult("b", "boom", true)];
    const { body } = build(req({ tools: [tool("Bash")], messages: msgs }));
    expect(history(body)[2].userInputMessage.userInputMessageContext.toolResults[0].status).toBe("error");
    expect(history(body)[2].userInputMessage.content).toBe("never mind");
    expect(cur(body).userInputMessageContext.toolResults[0]).toEqual({ toolUseId: "b", content: [{ text: "boom" }], status: "error" });
  });

  test("orphan results on the first turn are dropped and the turn still has content", () => {
    const { body } = build(req({ messages: [toolResult("x", "r"), assistant("a"), user("b")] }));
    expect(history(body)[0].userInputMessage.userInputMessageContext).toBeUndefined();
    expect(history(body)[0].userInputMessage.content).toBe("Continue");
  });

  test("non-object tool inputs become objects", () => {
    const { body } = build(req({ tools: [tool("T")], messages: [user("q"), toolUse("a", "T", '{"x":1}'), toolResult("a", "r"),
      toolUse("b", "T", "not json"), toolResult("b", "r"), toolUse("c", "T", [1, 2]), toolResult("c", "r")] }));
    const uses = history(body).filter((e: any) => e.assistantResponseMessage?.toolUses).map((e: any) => e.assistantResponseMessage.toolUses[0].input);
    expect(uses).toEqual([{ x: 1 }, { input: "not json" }, { input: [1, 2] }]);
  });
});

describe("rule 6–8: tools", () => {
  test("tools only on the current message; placeholders for names only in history", () => {
    const { body } = build(req({ tools: [tool("Read")], messages: [user("q"), toolUse("a", "Bash"), toolResult("a", "r")] }));
    const specs = cur(body).userInputMessageContext.tools.map((t: any) => t.toolSpecification);
    expect(specs.map((s: any) => s.name)).toEqual(["Read", "Bash"]);
    expect(specs[1].description).toBe(PLACEHOLDER_DESCRIPTION);
    for (const e of history(body)) expect(e.userInputMessage?.userInputMessageContext?.tools).toBeUndefined();
  });

  test("placeholder matching is case-insensitive", () => {
    const { body } = build(req({ tools: [tool("bash")], messages: [user("q"), toolUse("a", "BASH"), toolResult("a", "r")] }));
    expect(cur(body).userInputMessageContext.tools.length).toBeGreaterThanOrEqual(1);
  });

  test("long names are shortened everywhere and restored", () => {
    const long = "mcp__server__" + "n".repeat(57);
    const { body, toolNames } = build(req({ tools: [tool(long)], messages: [user("q"), toolUse("a", long), toolResult("a", "r")] }));
    const declared = cur(body).userInputMessageContext.tools[0].toolSpecification.name;
    expect(declared.length).toBeLessThanOrEqual(64);
    expect(history(body)[1].assistantResponseMessage.toolUses[0].name).toBe(declared);
    expect(toolNames.restore(declared)).toBe(long);
  });

  test("descriptions: empty → Tool: name; > 10,240 cut, full text moved to system", () => {
    const huge = "d".repeat(20_000);
    const { body } = build(req({ tools: [tool("A", ""), tool("B", huge)] }));
    const specs = cur(body).userInputMessageContext.tools.map((t: any) => t.toolSpecification);
    expect(specs[0].description).toBe("Tool: A");
    expect(specs[1].description.length).toBeLessThanOrEqual(10_240);
    expect(history(body)[0].userInputMessage.content).toContain(huge);
  });

  test("schema hygiene: $schema/$id removed, prefixItems → items, top-level object, empty required dropped", () => {
    const { body } = build(req({ tools: [
      tool("A", "x", { $schema: "http://json-schema.org/draft-07/schema#", $id: "x", type: "object",
        properties: { $id: { type: "string" }, t: { type: "array", prefixItems: [{ type: "string" }] } }, required: [] }),
      { name: "B", description: "x", inputSchema: undefined as any },
      tool("C", "x", { properties: { q: { type: "string" } }, required: ["q"] }),
    ] }));
    const [a, b, c] = cur(body).userInputMessageContext.tools.map((t: any) => t.toolSpecification.inputSchema.json);
    expect(a).toEqual({ type: "object", properties: { $id: { type: "string" }, t: { type: "array", items: [{ type: "string" }] } } });
    expect(b).toEqual({ type: "object", properties: {} });
    expect(c).toEqual({ type: "object", properties: { q: { type: "string" } }, required: ["q"] });
  });

  test("toolChoice none: no tools declared, history tool traffic rendered as text", () => {
    const { body } = build(req({ tools: [tool("Bash")], toolChoice: { type: "none" },
      messages: [user("q"), toolUse("a", "Bash", { c: "ls" }), toolResult("a", "file")] }));
    expect(cur(body).userInputMessageContext).toBeUndefined();
    expect(history(body)[1].assistantResponseMessage.toolUses).toBeUndefined();
    expect(history(body)[1].assistantResponseMessage.content).toContain("Bash");
    expect(cur(body).content).toContain("file");
  });

  test("toolChoice tool names the (short) tool; unknown tool → bad_request", () => {
    const { body } = build(req({ system: "S", tools: [tool("Bash")], toolChoice: { type: "tool", name: "Bash" } }));
    expect(history(body)[0].userInputMessage.content).toContain('calling the tool "Bash"');
    expect(() => buildKiroRequest(req({ tools: [tool("Bash")], toolChoice: { type: "tool", name: "Nope" } }), {}))
      .toThrow(/not among the declared tools/);
  });
});

describe("rule 9: images", () => {
  test("png and jpeg pass; declared type corrected from the bytes", () => {
    const { body } = build(req({ messages: [{ role: "user", content: [
      { type: "image", mediaType: "image/png", data: PNG_1x1 },
      { type: "image", mediaType: "image/png", data: JPEG_16 },
      { type: "text", text: "what is this" },
    ] }] }));
    expect(cur(body).images.map((i: any) => i.format)).toEqual(["png", "jpeg"]);
    expect(cur(body).content).toBe("what is this");
  });

  test("bad, oversize and too many images become notes", () => {
    const big = Buffer.alloc(4 * 1024 * 1024);
    Buffer.from(PNG_1x1, "base64").copy(big);
    const parts: any[] = [
      { type: "image", mediaType: "image/png", data: "bm90IGFuIGltYWdl" },
      { type: "image", mediaType: "image/png", data: big.toString("base64") },
      { type: "image", mediaType: "image/png", data: pngOfSize(9000, 10) },
      ...Array.from({ length: 12 }, () => ({ type: "image", mediaType: "image/png", data: PNG_1x1 })),
    ];
    const { body } = build(req({ messages: [{ role: "user", content: parts }] }));
    expect(cur(body).images.length).toBe(10);
    expect(cur(body).content).toContain("unsupported format");
    expect(cur(body).content).toContain("3.75 MB");
    expect(cur(body).content).toContain("8000 px");
    expect(cur(body).content).toContain("at most 10 images");
  });

  test("images inside tool results travel on the message", () => {
    const { body } = build(req({ tools: [tool("Shot")], messages: [user("q"), toolUse("a", "Shot"), { role: "user", content: [
      { type: "tool_result", toolUseId: "a", content: [{ type: "image", mediaType: "image/png", data: PNG_1x1 }] },
    ] }] }));
    expect(cur(body).images.length).toBe(1);
    expect(cur(body).userInputMessageContext.toolResults[0].content[0].text).toContain("image");
  });

  test("images older than the last 5 history entries are replaced by a note", () => {
    const img = (t: string) => ({ role: "user" as const, content: [{ type: "image" as const, mediaType: "image/png" as const, data: PNG_1x1 }, { type: "text" as const, text: t }] });
    const msgs = [img("1"), assistant("a"), img("2"), assistant("b"), img("3"), assistant("c"), img("4"), assistant("d"), user("now")];
    const { body } = build(req({ messages: msgs }));
    expect(history(body)[0].userInputMessage.images).toBeUndefined();
    expect(history(body)[0].userInputMessage.content).toContain("omitted");
    expect(history(body)[6].userInputMessage.images.length).toBe(1);
  });
});

describe("rule 10: size budget", () => {
  test("too long input → input_too_long with size and limit, before sending", () => {
    const msgs = Array.from({ length: 8 }, (_, i) => (i % 2 ? assistant("y".repeat(100_000)) : user("x".repeat(100_000))));
    try {
      buildKiroRequest(req({ messages: [...msgs, user("q")] }), {});
      throw new Error("no throw");
    } catch (e) {
      expect((e as KiroError).cls).toBe("input_too_long");
      expect((e as KiroError).upstreamMessage).toMatch(/\d{6,} characters.*limit for this model is 700000/);
    }
  });

  test("the same input fits a 1M-context model; maxInputChars overrides", () => {
    const msgs = [user("x".repeat(400_000)), assistant("y".repeat(400_000)), user("q")];
    expect(() => build(req({ model: model("claude-sonnet-4-6"), messages: msgs }))).not.toThrow();
    expect(() => buildKiroRequest(req({ messages: [user("x".repeat(2000))] }), { maxInputChars: 1000 })).toThrow(/input_too_long/);
  });

  test("a single huge current message is truncated to 600,000 chars with a marker", () => {
    const { body } = build(req({ model: model("claude-sonnet-4-6"), messages: [user("z".repeat(700_000))] }));
    expect(cur(body).content.length).toBeLessThanOrEqual(600_000);
    expect(cur(body).content).toContain("truncated");
  });

  test("a huge system prompt is reported, not silently cut", () => {
    expect(() => buildKiroRequest(req({ model: model("claude-sonnet-4-6"), system: "s".repeat(650_000) }), {})).toThrow(/system prompt/);
  });
});

describe("rule 11: thinking", () => {
  test("budgeted thinking → tags at the start of the system entry", () => {
    const { body } = build(req({ system: "S", thinking: { type: "enabled", budgetTokens: 8000 } }));
    expect(history(body)[0].userInputMessage.content).toBe(
      "<thinking_mode>enabled</thinking_mode><max_thinking_length>8000</max_thinking_length>\n\nS");
    expect(body.additionalModelRequestFields).toBeUndefined();
  });

  test("tags without a system prompt still form the leading pair; budgets are clamped", () => {
    const { body } = build(req({ thinking: { type: "enabled", budgetTokens: 10 } }));
    expect(history(body)[0].userInputMessage.content).toContain("<max_thinking_length>1024<");
  });

  test("adaptive on a model with native thinking → additionalModelRequestFields", () => {
    const { body } = build(req({ model: model("claude-opus-4-6"), thinking: { type: "adaptive", effort: "max" } }));
    expect(body.additionalModelRequestFields).toEqual({ thinking: { type: "adaptive" }, output_config: { effort: "max" } });
    expect(history(body).length).toBe(0);
  });

  test("adaptive elsewhere → adaptive tags; forced tag form on a native model", () => {
    const a = build(req({ thinking: { type: "adaptive", effort: "medium" } })).body;
    expect(history(a)[0].userInputMessage.content).toContain("<thinking_mode>adaptive</thinking_mode><thinking_effort>medium</thinking_effort>");
    const b = build(req({ model: model("claude-opus-4-6"), thinking: { type: "adaptive" } }), { thinkingForm: "tags" }).body;
    expect(b.additionalModelRequestFields).toBeUndefined();
    expect(history(b)[0].userInputMessage.content).toContain("<thinking_effort>high</thinking_effort>");
  });

  test("-thinking model name turns thinking on", () => {
    const { body } = build(req({ model: model("claude-sonnet-4-5-thinking") }));
    expect(history(body)[0].userInputMessage.content).toContain("<max_thinking_length>20000<");
  });

  test("prior thinking: tags in content, or signed reasoningContent in native form, dropped when off", () => {
    const msgs: any[] = [user("q"), { role: "assistant", content: [{ type: "thinking", text: "hmm", signature: "sig" }, { type: "text", text: "A" }] }, user("n")];
    const tags = build(req({ messages: msgs, thinking: { type: "enabled", budgetTokens: 2000 } })).body;
    expect(history(tags)[3].assistantResponseMessage.content).toBe("<thinking>hmm</thinking>\n\nA");
    const native = build(req({ model: model("claude-opus-4-6"), messages: msgs, thinking: { type: "adaptive" } })).body;
    expect(history(native)[1].assistantResponseMessage).toEqual({ content: "A", reasoningContent: { reasoningText: { text: "hmm", signature: "sig" } } });
    const off = build(req({ messages: msgs })).body;
    expect(history(off)[1].assistantResponseMessage.content).toBe("A");
  });
});
