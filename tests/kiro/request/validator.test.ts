import { describe, expect, test } from "bun:test";
import { validateGenerateAssistantRequest } from "../../fake-kiro/validator";
import { JPEG_16, PNG_1x1, pngOfSize } from "./helpers";

/** The example body of docs/upstream.md, The chat request body (images with a real PNG), which must pass. */
function good(): any {
  return {
    conversationState: {
      conversationId: "0b4445e1-f5be-49e1-87ce-62bbc28ad705",
      agentContinuationId: "6f2c0a53-7d6e-4f4b-9a59-1c7b1b8c2e11",
      agentTaskType: "vibe",
      chatTriggerType: "MANUAL",
      history: [
        { userInputMessage: { content: "You are a helpful assistant.", origin: "AI_EDITOR" } },
        { assistantResponseMessage: { content: "Working..." } },
        { userInputMessage: { content: "List the files.", origin: "AI_EDITOR", modelId: "claude-sonnet-4.5" } },
        { assistantResponseMessage: { content: "Listing them.",
          toolUses: [{ toolUseId: "tooluse_1", name: "Bash", input: { command: "ls" } }] } },
      ],
      currentMessage: { userInputMessage: {
        content: "", modelId: "claude-sonnet-4.5", origin: "AI_EDITOR",
        images: [{ format: "png", source: { bytes: PNG_1x1 } }],
        userInputMessageContext: {
          tools: [{ toolSpecification: { name: "Bash", description: "Run a shell command.",
            inputSchema: { json: { type: "object", properties: { command: { type: "string" } }, required: ["command"] } } } }],
          toolResults: [{ toolUseId: "tooluse_1", content: [{ text: "a.txt\nb.txt" }], status: "success" }],
        },
      } },
    },
    profileArn: "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF",
  };
}
const cs = (b: any) => b.conversationState;
const cm = (b: any) => b.conversationState.currentMessage.userInputMessage;
const hist = (b: any) => b.conversationState.history;

describe("validator accepts", () => {
  test("the documented example body", () => expect(validateGenerateAssistantRequest(good())).toEqual({ ok: true }));
  test("a minimal body", () => {
    expect(validateGenerateAssistantRequest({ conversationState: { chatTriggerType: "MANUAL",
      currentMessage: { userInputMessage: { content: "hi" } } } })).toEqual({ ok: true });
  });
  test("a jpeg and the legacy model id", () => {
    const b = good();
    cm(b).images = [{ format: "jpeg", source: { bytes: JPEG_16 } }];
    cm(b).modelId = "CLAUDE_SONNET_4_5_20250929_V1_0";
    expect(validateGenerateAssistantRequest(b).ok).toBe(true);
  });
});

/** Each mutation must be rejected, with the reason the real service gives for it. */
const bad: Array<[string, string, (b: any) => void]> = [
  ["not an object", "REQUEST_BODY_INVALID", (b) => { delete b.conversationState; }],
  ["chatTriggerType AUTO", "REQUEST_BODY_INVALID", (b) => { cs(b).chatTriggerType = "AUTO"; }],
  ["missing chatTriggerType", "REQUEST_BODY_INVALID", (b) => { delete cs(b).chatTriggerType; }],
  ["agentTaskType spec", "REQUEST_BODY_INVALID", (b) => { cs(b).agentTaskType = "spec"; }],
  ["unknown origin", "REQUEST_BODY_INVALID", (b) => { cm(b).origin = "WEB"; }],
  ["null member", "REQUEST_BODY_INVALID", (b) => { cm(b).images = null; }],
  ["unknown member", "REQUEST_BODY_INVALID", (b) => { cs(b).workspaceId = "w"; }],
  ["current content missing", "REQUEST_BODY_INVALID", (b) => { delete cm(b).content; }],
  ["current is assistant", "REQUEST_BODY_INVALID", (b) => { cs(b).currentMessage = { assistantResponseMessage: { content: "x" } }; }],
  ["two keys in one entry", "REQUEST_BODY_INVALID", (b) => { hist(b)[1].userInputMessage = { content: "x" }; }],
  ["history starts with assistant", "REQUEST_BODY_INVALID", (b) => { hist(b).splice(0, 1); }],
  ["history not alternating", "REQUEST_BODY_INVALID", (b) => { hist(b).splice(1, 1); }],
  ["history ends with user", "REQUEST_BODY_INVALID", (b) => { hist(b).splice(3, 1); }],
  ["empty user content without results", "REQUEST_BODY_INVALID", (b) => { hist(b)[2].userInputMessage.content = "   "; }],
  ["empty assistant content without tool uses", "REQUEST_BODY_INVALID", (b) => { hist(b)[1].assistantResponseMessage.content = ""; }],
  ["tool use unanswered", "TOOL_USE_RESULT_MISMATCH", (b) => { delete cm(b).userInputMessageContext.toolResults; cm(b).content = "x"; }],
  ["orphan result", "TOOL_USE_RESULT_MISMATCH", (b) => { cm(b).userInputMessageContext.toolResults.push({ toolUseId: "zz", content: [{ text: "r" }] }); }],
  ["duplicate result", "TOOL_USE_RESULT_MISMATCH", (b) => { const r = cm(b).userInputMessageContext.toolResults; r.push({ ...r[0] }); }],
  ["result to an older assistant", "TOOL_USE_RESULT_MISMATCH", (b) => {
    hist(b).push({ userInputMessage: { content: "", userInputMessageContext: { toolResults: [{ toolUseId: "tooluse_1", content: [{ text: "r" }] }] } } },
      { assistantResponseMessage: { content: "done" } });
  }],
  ["isError member", "REQUEST_BODY_INVALID", (b) => { cm(b).userInputMessageContext.toolResults[0].isError = true; }],
  ["bad status", "REQUEST_BODY_INVALID", (b) => { cm(b).userInputMessageContext.toolResults[0].status = "failed"; }],
  ["empty result content", "REQUEST_BODY_INVALID", (b) => { cm(b).userInputMessageContext.toolResults[0].content = []; }],
  ["tool input as string", "REQUEST_BODY_INVALID", (b) => { hist(b)[3].assistantResponseMessage.toolUses[0].input = "{}"; }],
  ["undeclared history tool", "TOOL_CONFIG_MISSING", (b) => { cm(b).userInputMessageContext.tools = []; }],
  ["tools in history", "REQUEST_BODY_INVALID", (b) => { hist(b)[2].userInputMessage.userInputMessageContext = { tools: cm(b).userInputMessageContext.tools }; }],
  ["65-char tool name", "REQUEST_BODY_INVALID", (b) => { cm(b).userInputMessageContext.tools[0].toolSpecification.name = "x".repeat(65); }],
  ["tool name with a dot", "REQUEST_BODY_INVALID", (b) => { hist(b)[3].assistantResponseMessage.toolUses[0].name = "a.b"; }],
  ["duplicate tool", "TOOL_DUPLICATE", (b) => { const t = cm(b).userInputMessageContext.tools; t.push(structuredClone(t[0])); }],
  ["description > 10240", "REQUEST_BODY_INVALID", (b) => { cm(b).userInputMessageContext.tools[0].toolSpecification.description = "d".repeat(10_241); }],
  ["empty description", "REQUEST_BODY_INVALID", (b) => { cm(b).userInputMessageContext.tools[0].toolSpecification.description = ""; }],
  ["missing schema", "REQUEST_BODY_INVALID", (b) => { delete cm(b).userInputMessageContext.tools[0].toolSpecification.inputSchema; }],
  ["schema not object", "TOOL_SCHEMA_INVALID", (b) => { cm(b).userInputMessageContext.tools[0].toolSpecification.inputSchema.json = { type: "string" }; }],
  ["schema with $schema", "TOOL_SCHEMA_INVALID", (b) => { cm(b).userInputMessageContext.tools[0].toolSpecification.inputSchema.json.$schema = "x"; }],
  ["empty required", "TOOL_SCHEMA_INVALID", (b) => { cm(b).userInputMessageContext.tools[0].toolSpecification.inputSchema.json.required = []; }],
  ["image format bmp", "IMAGE_FORMAT_UNSUPPORTED", (b) => { cm(b).images[0].format = "bmp"; }],
  ["image mime mismatch", "IMAGE_MIME_MISMATCH", (b) => { cm(b).images[0].format = "jpeg"; }],
  ["image data URL", "REQUEST_BODY_INVALID", (b) => { cm(b).images[0].source.bytes = `data:image/png;base64,${PNG_1x1}`; }],
  ["image too large", "IMAGE_SIZE_EXCEEDED", (b) => {
    const big = Buffer.alloc(4 * 1024 * 1024); Buffer.from(PNG_1x1, "base64").copy(big);
    cm(b).images[0].source.bytes = big.toString("base64");
  }],
  ["image too wide", "IMAGE_DIMENSION_EXCEEDED", (b) => { cm(b).images[0].source.bytes = pngOfSize(8001, 1); }],
  ["11 images on current", "IMAGE_COUNT_EXCEEDED", (b) => { cm(b).images = Array.from({ length: 11 }, () => ({ format: "png", source: { bytes: PNG_1x1 } })); }],
  ["unknown model", "INVALID_MODEL_ID", (b) => { cm(b).modelId = "gpt-4"; }],
  ["bad profileArn", "REQUEST_BODY_INVALID", (b) => { b.profileArn = "arn:aws:iam::123:role/x"; }],
  ["native thinking on a model without it", "REQUEST_BODY_INVALID", (b) => { b.additionalModelRequestFields = { thinking: { type: "adaptive" } }; }],
  ["native thinking bad type", "REQUEST_BODY_INVALID", (b) => { cm(b).modelId = "claude-opus-4.6"; b.additionalModelRequestFields = { thinking: { type: "enabled" } }; }],
  ["user message > 600,000 chars", "CONTENT_LENGTH_EXCEEDS_THRESHOLD", (b) => { cm(b).modelId = "claude-opus-4.6"; hist(b)[2].userInputMessage.content = "x".repeat(600_001); }],
  ["body over budget", "CONTENT_LENGTH_EXCEEDS_THRESHOLD", (b) => {
    for (let i = 0; i < 3; i++) hist(b).push({ userInputMessage: { content: "x".repeat(300_000) } }, { assistantResponseMessage: { content: "y" } });
    hist(b)[4].userInputMessage.userInputMessageContext = { toolResults: [{ toolUseId: "tooluse_1", content: [{ text: "r" }] }] };
    delete cm(b).userInputMessageContext.toolResults; cm(b).content = "q";
  }],
];

describe("validator rejects", () => {
  for (const [name, reason, mutate] of bad) {
    test(name, () => {
      const b = good();
      mutate(b);
      const r = validateGenerateAssistantRequest(b);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toBe(reason);
        expect(r.message.length).toBeGreaterThan(0);
      }
    });
  }
  test("non-objects", () => {
    for (const v of [null, 1, "x", [], undefined]) expect(validateGenerateAssistantRequest(v).ok).toBe(false);
  });
  test("the size limit is configurable", () => {
    expect(validateGenerateAssistantRequest(good(), { maxInputChars: 100 }).ok).toBe(false);
    expect(validateGenerateAssistantRequest(good(), { maxInputChars: 0 }).ok).toBe(true);
  });
});
