/**
 * Stored responses (the engine's: src/db/responses-store.ts on SQLite, src/db/pg/responses-store.ts
 * with KIRO_TEST_DATABASE=postgres): per-key reads, expiry, the size cap, and the housekeeping
 * timer pruning them; plus `kiro-server codex-config`'s config merging.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settingsPatch } from "../../src/panel/settings/routes";
import { startBackground } from "../../src/background";
import { mergeConfig, runCodexConfigCommand } from "../../src/cli/codex-config";
import { ConfigError } from "../../src/config/load";
import type { ResponsesRepo } from "../../src/db/responses-store";
import type { Services } from "../../src/services";
import { makeServices } from "../support/app";

let s: Services;
let store: ResponsesRepo;
beforeAll(async () => {
  s = await makeServices();
  store = s.responses;
});
afterAll(async () => {
  for (const fn of s.onShutdown.splice(0)) await fn();
});

const rec = (id: string, key: string, createdAt: number, pad = 0) => ({
  id, clientKeyId: key, createdAt,
  response: { id, object: "response", pad: "x".repeat(pad) },
  input: [{ id: `msg_${id}`, type: "message", role: "user", content: "hi" }],
  output: [],
});

describe("stored responses", () => {
  // Saves return at once (PostgreSQL writes in the background): `saved` waits until stored.
  const saved = async (...rs: Array<[ReturnType<typeof rec>, number]>) => {
    for (const [r, ttl] of rs) void store.save(r, ttl);
    await store.flush();
  };

  test("reads are scoped to the key; delete only by the owner", async () => {
    await saved([rec("resp_a", "k1", Date.now()), 60_000]);
    expect((await store.get("resp_a", "k1"))?.input[0]!.id).toBe("msg_resp_a");
    expect(await store.get("resp_a", "k2")).toBeUndefined();
    expect(await store.delete("resp_a", "k2")).toBe(false);
    expect(await store.delete("resp_a", "k1")).toBe(true);
    expect(await store.get("resp_a", "k1")).toBeUndefined();
    expect(await store.delete("resp_a", "k1")).toBe(false);
  });

  test("a record being saved reads back at once on the instance that saves it", async () => {
    const done = store.save(rec("resp_now", "k1", Date.now()), 60_000);
    expect((await store.get("resp_now", "k1"))?.id).toBe("resp_now");
    expect(await store.get("resp_now", "k2")).toBeUndefined();
    await done;
    expect(await store.delete("resp_now", "k1")).toBe(true);
  });

  test("saving the same id again replaces the record (every column)", async () => {
    const now = Date.now();
    await saved([rec("resp_again", "k1", now, 10), 60_000]);
    await saved([{ ...rec("resp_again", "k1", now + 5, 20), input: [{ id: "msg_second", type: "message", role: "user", content: "again" }] }, 120_000]);
    const got = (await store.get("resp_again", "k1"))!;
    expect(got.createdAt).toBe(now + 5);
    expect((got.response as { pad: string }).pad).toBe("x".repeat(20));
    expect(got.input[0]!.id).toBe("msg_second");
    expect(await store.get("resp_again", "k1", { now: now + 100_000 })).toBeDefined(); // the new expiry (now + 5 + 120 s)
    expect(await store.delete("resp_again", "k1")).toBe(true);
  });

  test("expired records read as absent and are pruned", async () => {
    await store.prune(1 << 30);
    const now = Date.now();
    await saved([rec("resp_old", "k1", now - 10_000), 5_000], [rec("resp_new", "k1", now), 60_000]);
    expect(await store.get("resp_old", "k1", { now })).toBeUndefined();
    expect(await store.prune(1 << 30, now)).toBe(1);
    expect(await store.get("resp_new", "k1", { now })).toBeDefined();
    await store.delete("resp_new", "k1");
  });

  test("over the size cap the oldest go first", async () => {
    await store.prune(0);
    const now = Date.now();
    for (let i = 0; i < 5; i++) void store.save(rec(`resp_cap${i}`, "k1", now + i, 1000), 60_000);
    await store.flush();
    expect(await store.prune(2500, now)).toBe(3);
    expect(await store.get("resp_cap0", "k1", { now })).toBeUndefined();
    expect(await store.get("resp_cap2", "k1", { now })).toBeUndefined();
    expect(await store.get("resp_cap3", "k1", { now })).toBeDefined();
    expect(await store.get("resp_cap4", "k1", { now })).toBeDefined();
    await store.prune(0, now);
    expect(await store.count()).toBe(0);
  });

  test("the housekeeping timer prunes expired responses; settings carry TTL and cap", async () => {
    expect(s.settings.runtime.responsesRetentionDays).toBe(30);
    expect(s.settings.runtime.responsesStoreMaxMb).toBeGreaterThan(0);
    await saved([rec("resp_stale", "k1", Date.now() - 2000), 1000]);
    expect(await store.count()).toBe(1);
    await startBackground(s);
    expect(await store.count()).toBe(0);
  });

  test("the panel's settings form sets the retention and the cap", () => {
    const form = { strategy: "balanced", cooldownBaseMs: "2", cooldownMaxMs: "300", maxConsecutiveFailures: "5", perAccountConcurrency: "4", firstTokenTimeoutMs: "90", logRetentionDays: "30", responsesRetentionDays: "7", responsesStoreMaxMb: "64" };
    const next = s.settings.update(settingsPatch(form));
    expect([next.responsesRetentionDays, next.responsesStoreMaxMb]).toEqual([7, 64]);
  });
});

describe("kiro-server codex-config", () => {
  const o = { model: "claude-sonnet-4-5", catalogPath: "/h/kiro-models.json", baseUrl: "http://127.0.0.1:7860/v1", envKey: "KIRO_API_KEY" };

  test("adds its blocks around the user's settings and replaces them on a re-run", () => {
    const user = 'approval_policy = "never"\n\n[tui]\nanimations = false\n';
    const once = mergeConfig(user, o);
    expect(once.indexOf('model_provider = "kiro"')).toBeLessThan(once.indexOf("[tui]"));
    expect(once.indexOf("[model_providers.kiro]")).toBeGreaterThan(once.indexOf("[tui]"));
    expect(once).toContain('wire_api = "responses"');
    const twice = mergeConfig(once, { ...o, baseUrl: "http://10.0.0.2:9000/v1" });
    expect(twice.match(/\[model_providers\.kiro\]/g)).toHaveLength(1);
    expect(twice).toContain("http://10.0.0.2:9000/v1");
    expect(twice).not.toContain("7860");
    expect(twice).toContain('approval_policy = "never"');
  });

  test("refuses to overwrite the user's own top-level model or kiro provider", () => {
    expect(() => mergeConfig('model = "gpt-5.5"\n', o)).toThrow(ConfigError);
    expect(() => mergeConfig("[model_providers.kiro]\nname = \"x\"\n", o)).toThrow(ConfigError);
    // A `model` key inside a table is not top-level.
    expect(() => mergeConfig('[profiles.fast]\nmodel = "gpt-5.5"\n', o)).not.toThrow();
  });

  test("without a codex binary: built-in catalogue entries, one per model, freeform apply_patch", async () => {
    const home = mkdtempSync(join(tmpdir(), "kiro-codex-cfg-"));
    try {
      writeFileSync(join(home, "config.toml"), "[tui]\nanimations = false\n");
      const lines: string[] = [];
      const rc = await runCodexConfigCommand(["--codex-home", home, "--port", "7999"], { PATH: "" }, (l) => lines.push(l));
      expect(rc).toBe(0);
      expect(lines.join("\n")).toContain("built-in entry");
      const cat = JSON.parse(readFileSync(join(home, "kiro-models.json"), "utf8"));
      const sonnet = cat.models.find((m: any) => m.slug === "claude-sonnet-4-5");
      expect(sonnet).toMatchObject({ apply_patch_tool_type: "freeform", context_window: 200000 });
      expect(typeof sonnet.base_instructions).toBe("string");
      const toml = readFileSync(join(home, "config.toml"), "utf8");
      expect(toml).toContain('base_url = "http://127.0.0.1:7999/v1"');
      expect(toml).toContain("animations = false");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
