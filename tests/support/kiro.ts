import { expect } from "bun:test";
import type { CanonicalRequest } from "../../src/core/canonical";
import { KiroError } from "../../src/kiro/errors";
import { model } from "./models";

/** A minimal canonical request: one user text message, no tools, thinking off. */
export function textRequest(text: string, extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    model: model("claude-sonnet-4-5"),
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text }] }],
    tools: [],
    maxTokens: 1024,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
    ...extra,
  };
}

/** Awaits `p`, expecting it to reject with a KiroError, and returns that error. */
export async function kiroRejection(p: Promise<unknown>): Promise<KiroError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KiroError);
    return e as KiroError;
  }
  throw new Error("expected a KiroError rejection");
}
