/**
 * The upstream request body of the bench's floors (bench/lib/passthrough.ts, bench/minimal): a
 * well-formed generateAssistantResponse body built once by kiro-server's own builder, split
 * around the user's text so each request only swaps its prompt in.
 */
import { ModelCatalog } from "../../src/core/models";
import { buildKiroRequest } from "../../src/kiro/request/build";

export type PromptTemplate = {
  /** The model the body asks for (claude-sonnet-4-5, resolved). */
  model: ReturnType<ModelCatalog["resolve"]>;
  /** The body with `text` as the user's message (any string: JSON-escaped here). */
  body(text: string): string;
};

export function promptTemplate(): PromptTemplate {
  const MARK = "\u0000prompt\u0000";
  const model = new ModelCatalog({ fallback: "family" }).resolve("claude-sonnet-4-5");
  const template = buildKiroRequest({
    model,
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text: MARK }] }],
    tools: [],
    maxTokens: 32000,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
  }).json;
  const escaped = JSON.stringify(MARK).slice(1, -1);
  const at = template.indexOf(escaped);
  if (at < 0) throw new Error("prompt slot not found in the upstream body");
  const before = template.slice(0, at);
  const after = template.slice(at + escaped.length);
  return { model, body: (text) => before + JSON.stringify(text).slice(1, -1) + after };
}
