/**
 * The fake's model catalogue: ListAvailableModels carries non-Claude models with their token
 * limits, lists differ per account (plan), and chat honours the account's list the way the
 * service does (400 INVALID_MODEL_ID for a model the plan lacks; any listed id is served).
 */
import { describe, expect, test } from "bun:test";
import type { KiroCredentials } from "../../src/kiro/client";
import { buildKiroRequest } from "../../src/kiro/request/build";
import { kiroHeaders } from "../../src/kiro/request/headers";
import { decodeKiroStream } from "../../src/kiro/stream/decode";
import { listAvailableModels } from "../../src/kiro/usage";
import { FAKE_MODEL_LISTS } from "../fake-kiro/models";
import { useFakeKiro } from "../support/kiro";
import { req, user } from "./request/helpers";

const kiro = useFakeKiro();
const creds = kiro.creds;

/** A real builder body sent with `modelId` swapped in (the builder only knows Claude names today). */
async function chat(c: KiroCredentials, modelId: string, text: string): Promise<{ status: number; body: string; reason?: string }> {
  const built = buildKiroRequest(req({ messages: [user(text)] }), { profileArn: c.profileArn });
  const body = built.body as any;
  body.conversationState.currentMessage.userInputMessage.modelId = modelId;
  const res = await fetch(`${kiro.fake.url}/generateAssistantResponse`, {
    method: "POST",
    headers: kiroHeaders({ accessToken: c.accessToken, machineId: c.machineId, authKind: "social" }),
    body: JSON.stringify(body),
  });
  if (res.status !== 200) {
    const j = (await res.json()) as { reason?: string; message: string };
    return { status: res.status, body: j.message, reason: j.reason };
  }
  let out = "";
  for await (const ev of decodeKiroStream(res.body!, { restoreToolName: (x) => x })) if (ev.type === "text") out += ev.text;
  return { status: 200, body: out };
}

describe("fake ListAvailableModels", () => {
  test("the default list has Claude, auto and non-Claude models with their token limits", async () => {
    const models = await listAvailableModels(await creds(), kiro.upstream);
    const ids = models.map((m) => m.modelId);
    for (const id of ["auto", "claude-opus-4.6", "claude-sonnet-4.5", "deepseek-3.2", "glm-5", "minimax-m2.5", "qwen3-coder-next"]) expect(ids).toContain(id);
    expect(models.find((m) => m.modelId === "deepseek-3.2")?.tokenLimits).toEqual({ maxInputTokens: 128_000, maxOutputTokens: 32_000 });
    expect(models.find((m) => m.modelId === "claude-opus-4.6")?.tokenLimits?.maxInputTokens).toBe(1_000_000);
    expect(models.find((m) => m.modelId === "glm-5")?.supportedInputTypes).toEqual(["TEXT"]);
    expect(models.find((m) => m.modelId === "auto")?.tokenLimits).toBeUndefined();
  });

  test("a plan whose newest Opus is 4.5 lists exactly that", async () => {
    const models = await listAvailableModels(await creds({ models: [...FAKE_MODEL_LISTS.olderOpus] }), kiro.upstream);
    const ids = models.map((m) => m.modelId);
    expect(ids).toEqual([...FAKE_MODEL_LISTS.olderOpus]);
    expect(ids.filter((id) => id.startsWith("claude-opus"))).toEqual(["claude-opus-4.5"]);
  });
});

describe("fake chat honours the account's plan", () => {
  test("a listed non-Claude model is served under its own id", async () => {
    const c = await creds({ models: [...FAKE_MODEL_LISTS.nonClaude] });
    expect(await chat(c, "glm-5", "[[fake:model]]")).toEqual({ status: 200, body: "Model: glm-5" });
    expect(await chat(c, "qwen3-coder-next", "[[fake:model]]")).toEqual({ status: 200, body: "Model: qwen3-coder-next" });
  });

  test("a model the plan lacks is refused like an unknown one: 400 INVALID_MODEL_ID", async () => {
    const c = await creds({ models: [...FAKE_MODEL_LISTS.olderOpus] });
    const r = await chat(c, "claude-opus-4.6", "hi");
    expect(r).toEqual({ status: 400, body: "Invalid model. Please select a different model.", reason: "INVALID_MODEL_ID" });
    expect((await chat(c, "claude-opus-4.5", "[[fake:model]]")).body).toBe("Model: claude-opus-4.5");
  });

  test("an account without a list accepts every known id", async () => {
    const c = await creds();
    expect((await chat(c, "minimax-m2.5", "[[fake:model]]")).body).toBe("Model: minimax-m2.5");
  });
});
