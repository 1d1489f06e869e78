import type { CanonicalMessage, CanonicalRequest, ToolDefinition } from "../../../src/core/canonical";
import { model } from "../../support/models";

export { model };

/** 1×1 PNG. */
export const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/** Minimal JPEG header: SOI, APP0/JFIF, SOF0 16×16, EOI — enough for sniffing and dimensions. */
export const JPEG_16 = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
  0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
  0xff, 0xd9,
]).toString("base64");

/** PNG header claiming 9000×10 px. */
export function pngOfSize(w: number, h: number): string {
  const b = Buffer.from(PNG_1x1, "base64");
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b.toString("base64");
}

export function req(over: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    model: model("claude-sonnet-4-5"),
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    tools: [],
    maxTokens: 1024,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
    ...over,
  };
}

export const user = (text: string): CanonicalMessage => ({ role: "user", content: [{ type: "text", text }] });
export const assistant = (text: string): CanonicalMessage => ({ role: "assistant", content: [{ type: "text", text }] });
export const toolUse = (id: string, name: string, input: unknown = {}, text = ""): CanonicalMessage => ({
  role: "assistant",
  content: [...(text ? [{ type: "text" as const, text }] : []), { type: "tool_use", id, name, input }],
});
export const toolResult = (id: string, text: string, isError = false): CanonicalMessage => ({
  role: "user",
  content: [{ type: "tool_result", toolUseId: id, content: [{ type: "text", text }], isError }],
});
export const tool = (name: string, description = "does things", inputSchema: Record<string, unknown> = {
  type: "object", properties: { a: { type: "string" } }, required: ["a"],
}): ToolDefinition => ({ name, description, inputSchema });

/** Upstream entries of a built body, for assertions. */
export function entries(body: any): any[] {
  return [...(body.conversationState.history ?? []), body.conversationState.currentMessage];
}
export const cur = (body: any) => body.conversationState.currentMessage.userInputMessage;
