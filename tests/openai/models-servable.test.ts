import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startE2E, type E2E } from "../support/e2e";

/** GET /v1/models narrows to what the accounts report they can serve (ListAvailableModels). */
describe("/v1/models reflects the accounts' upstream model lists", () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E({ accounts: [{ models: ["claude-sonnet-4.5", "claude-haiku-4.5"] }, { models: ["claude-sonnet-4"] }] });
  });
  afterAll(async () => { await e.stop(); });

  test("before any account reported a list, every accepted name is offered", async () => {
    const client = new OpenAI({ baseURL: `${e.url}/v1`, apiKey: e.clientKey });
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toContain("claude-opus-4-5");
    expect(ids).toContain("claude-sonnet-4-5");
  });

  test("after the quota poll, only names some account can serve are listed", async () => {
    for (const id of e.accountIds) await e.services.pool.checkQuota(id);
    expect([...e.services.pool.servableModelIds()!].sort()).toEqual(["claude-haiku-4.5", "claude-sonnet-4", "claude-sonnet-4.5"]);
    const client = new OpenAI({ baseURL: `${e.url}/v1`, apiKey: e.clientKey });
    const ids = (await client.models.list()).data.map((m) => m.id);
    // The original product's six names map to Sonnet 4.5 / Sonnet 4 / Haiku 4.5: all still offered.
    for (const name of ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-haiku-4-5-20251001"]) {
      expect(ids).toContain(name);
    }
    expect(ids).not.toContain("claude-opus-4-5");
    expect(ids).not.toContain("claude-opus-4-6");
  });

  test("a disabled account's models no longer count", async () => {
    e.services.pool.setEnabled(e.accountIds[1]!, false);
    expect([...e.services.pool.servableModelIds()!].sort()).toEqual(["claude-haiku-4.5", "claude-sonnet-4.5"]);
    e.services.pool.setEnabled(e.accountIds[1]!, true);
  });
});
