/**
 * The catalogue follows what the accounts serve, end to end (official SDKs against the real app
 * and the fake Kiro): family fallback to the newest served model, discovered models that are not
 * Claude through both dialects and in /v1/models, a model no account serves → 404 with the list
 * (never a retryable 503/529), the lists stored and used from the first request after a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { bootServices, shutdownServices } from "../../src/boot";
import { ModelCatalog } from "../../src/core/models";
import { PRODUCT_MODELS as PRODUCT } from "../../src/dialects/openai/models";
import { runTurn } from "../../src/turn/run";
import { TurnError } from "../../src/core/errors";
import { FAKE_MODEL_LISTS } from "../fake-kiro/models";
import { textSteps, usageSteps } from "../fake-kiro/scenarios";
import { startFakeKiro } from "../fake-kiro/server";
import { fakeRefreshToken, startE2E, type E2E } from "../support/e2e";
import { testConfig } from "../support/app";

const sentModel = (r: { body: unknown }) => (r.body as any).conversationState.currentMessage.userInputMessage.modelId;

describe("accounts whose lists stop at an older Opus", () => {
  let e: E2E;
  let anthropic: Anthropic;
  let openai: OpenAI;
  beforeAll(async () => {
    e = await startE2E({ accounts: [{ models: [...FAKE_MODEL_LISTS.olderOpus] }, { models: [...FAKE_MODEL_LISTS.nonClaude] }] });
    for (const id of e.accountIds) await e.services.pool.checkQuota(id);
    anthropic = new Anthropic({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${e.url}/v1`, apiKey: e.clientKey, maxRetries: 0 });
  });
  afterAll(async () => { await e.stop(); });
  const chats = () => e.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse"));

  test("Claude Code's default (claude-opus-4-8) is served by Opus 4.5; the answer keeps the requested name", async () => {
    const before = chats().length;
    const m = await anthropic.messages.create({ model: "claude-opus-4-8", max_tokens: 100, messages: [{ role: "user", content: "[[fake:model]]" }] });
    expect(m.model).toBe("claude-opus-4-8");
    expect((m.content[0] as any).text).toBe("Model: claude-opus-4.5");
    expect(chats().slice(before).map(sentModel)).toEqual(["claude-opus-4.5"]);
  });

  test("/v1/models lists exactly the catalogue: reported models in, unserved table names out", async () => {
    const ids = (await openai.models.list()).data.map((m) => m.id);
    // Exactly the catalogue's names, the original product's six first.
    const names = e.services.models.names();
    expect(ids).toEqual([...PRODUCT.filter((n) => names.includes(n)), ...names.filter((n) => !PRODUCT.includes(n))]);
    for (const id of ["deepseek-3.2", "glm-5", "minimax-m2.1", "qwen3-coder-next", "claude-opus-4-5", "claude-opus-4.5", "auto"]) expect(ids).toContain(id);
    for (const id of ["claude-opus-4-6", "claude-opus-4-8", "claude-sonnet-4-6", "claude-opus-4-7"]) expect(ids).not.toContain(id);
    const one = await openai.models.retrieve("deepseek-3.2");
    expect(one).toMatchObject({ id: "deepseek-3.2", owned_by: "kiro", display_name: "DeepSeek 3.2", max_input_tokens: 128_000, max_tokens: 32_000 } as any);
  });

  test("a discovered model that is not Claude answers through the Anthropic dialect", async () => {
    const m = await anthropic.messages.create({ model: "deepseek-3.2", max_tokens: 100, messages: [{ role: "user", content: "[[fake:model]]" }] });
    expect(m.model).toBe("deepseek-3.2");
    expect((m.content[0] as any).text).toBe("Model: deepseek-3.2");
  });

  test("…and through the Chat Completions dialect, stream too", async () => {
    const c = await openai.chat.completions.create({ model: "glm-5", messages: [{ role: "user", content: "[[fake:model]]" }] });
    expect(c.model).toBe("glm-5");
    expect(c.choices[0]!.message.content).toBe("Model: glm-5");
    const s = await openai.chat.completions.create({ model: "qwen3-coder-next", stream: true, messages: [{ role: "user", content: "[[fake:model]]" }] });
    let text = "";
    for await (const ch of s) text += ch.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Model: qwen3-coder-next");
  });

  test("usage of a discovered model uses its window: input from the context percentage × 128k", async () => {
    e.fake.enqueue({ name: "pct", steps: [...textSteps("short answer", 1), ...usageSteps({ contextUsagePercentage: 10 })] });
    const m = await anthropic.messages.create({ model: "deepseek-3.2", max_tokens: 100, messages: [{ role: "user", content: "hello" }] });
    expect(m.usage.input_tokens + m.usage.output_tokens).toBe(12_800);
  });

  test("count_tokens resolves discovered models", async () => {
    const r = await anthropic.messages.countTokens({ model: "minimax-m2.5", messages: [{ role: "user", content: "hello there" }] });
    expect(r.input_tokens).toBeGreaterThan(0);
  });

  test("a model no account serves → 404 naming it and what is available (Anthropic and OpenAI), no upstream call", async () => {
    const before = chats().length;
    // claude-opus-4-6 (a table name no account serves) falls back to Opus 4.5; minimax-m1 is nobody's.
    const fellBack = await anthropic.messages.create({ model: "claude-opus-4-6", max_tokens: 100, messages: [{ role: "user", content: "[[fake:model]]" }] });
    expect((fellBack.content[0] as any).text).toBe("Model: claude-opus-4.5");
    const gone = await anthropic.messages.create({ model: "minimax-m1", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((x) => x);
    expect(gone).toBeInstanceOf(Anthropic.NotFoundError);
    expect(gone.status).toBe(404);
    expect(gone.error.error.type).toBe("not_found_error");
    expect(String(gone.message)).toContain("minimax-m1");
    expect(String(gone.message)).toContain(`valid models: ${e.services.models.names().join(", ")}`);
    const o = await openai.chat.completions.create({ model: "minimax-m1", messages: [{ role: "user", content: "hi" }] }).catch((x) => x);
    expect(o).toBeInstanceOf(OpenAI.NotFoundError);
    expect(o.code).toBe("model_not_found");
    expect(chats().length).toBe(before + 1);
  });
});

describe("no Claude model served at all", () => {
  test("a Claude name is 404 with the available list, not 503/529", async () => {
    const e = await startE2E({ accounts: [{ models: [...FAKE_MODEL_LISTS.nonClaude] }] });
    try {
      await e.services.pool.checkQuota(e.accountIds[0]!);
      const c = new Anthropic({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
      const err = await c.messages.create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((x) => x);
      expect(err.status).toBe(404);
      expect(String(err.message)).toContain("deepseek-3.2");
    } finally {
      await e.stop();
    }
  });

  test("the pool's own verdict (no usable account's plan includes the model) is a 404 too", async () => {
    const e = await startE2E({ accounts: [{ models: [...FAKE_MODEL_LISTS.nonClaude] }] });
    try {
      await e.services.pool.checkQuota(e.accountIds[0]!);
      // A model resolved before the lists were known (the table's), asked of the pool now.
      const req = { model: new ModelCatalog().resolve("claude-sonnet-4-5"), system: "", messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }], tools: [], maxTokens: 10, stopSequences: [], thinking: { type: "disabled" as const }, metadata: { dialect: "anthropic" as const } };
      const err = await runTurn(e.services, req as any, { signal: new AbortController().signal, requestId: "req-pool", stream: false }).catch((x) => x);
      expect(err).toBeInstanceOf(TurnError);
      expect(err).toMatchObject({ kind: "not_found", status: 404, param: "model" });
      expect(err.message).toContain("no account's plan includes model claude-sonnet-4.5");
      expect(err.message).toContain("valid models: auto");
    } finally {
      await e.stop();
    }
  });
});

describe("stored lists", () => {
  test("after a restart the last lists apply from the first request, before any poll", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiro-models-"));
    const fake = await startFakeKiro();
    try {
      const up = fake.upstream;
      const config = testConfig({ dbPath: join(dir, "kiro.db"), region: up.region, apiUrl: up.apiUrl, authUrl: up.authUrl, oidcUrl: up.oidcUrl });
      const acct = fake.addAccount({ refreshToken: fakeRefreshToken(), models: [...FAKE_MODEL_LISTS.olderOpus] });
      const first = (await bootServices(config)).services;
      const { id } = await first.pool.upsert({ kind: acct.kind, refreshToken: acct.refreshToken, clientId: acct.clientId, clientSecret: acct.clientSecret, region: up.region, authRegion: up.region, source: "test" });
      expect(first.models.listsKnown).toBe(false);
      await first.pool.checkQuota(id);
      expect(first.models.resolve("claude-opus-4-8").upstreamId).toBe("claude-opus-4.5");
      await shutdownServices(first);

      const modelCalls = fake.requests.filter((r) => r.path.includes("ListAvailableModels")).length;
      const second = (await bootServices(config)).services;
      try {
        expect(second.models.listsKnown).toBe(true);
        expect(second.models.resolve("claude-opus-4-8").upstreamId).toBe("claude-opus-4.5");
        expect(second.models.resolve("deepseek-3.2")).toMatchObject({ upstreamId: "deepseek-3.2", contextWindow: 128_000 });
        expect(second.models.names()).not.toContain("claude-opus-4-6");
        expect(fake.requests.filter((r) => r.path.includes("ListAvailableModels")).length).toBe(modelCalls);
        // Disabling the only account withdraws its list: back to the table.
        second.pool.setEnabled(id, false);
        expect(second.models.listsKnown).toBe(false);
      } finally {
        await shutdownServices(second);
      }
    } finally {
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
