/**
 * Every import source (Kiro IDE cache, kiro-cli SQLite, Kiro Account Manager, kiro2api) from fixtures, bad rows included,
 * the CLI command, KIRO_AUTH_TOKEN at start, and following the Kiro IDE file's rotation.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImportCommand } from "../../src/cli/import";
import { importEntries, parseImportFile } from "../../src/pool/import";
import { AccountStore, fingerprintOf } from "../../src/pool/store";
import type { Services } from "../../src/services";
import { startFakeKiro } from "../fake-kiro/server";
import { shutdownServices } from "../../src/boot";
import { loadConfig } from "../../src/config/load";
import { KiroError } from "../../src/kiro/errors";
import { makeServices } from "./helpers";

const FIX = join(import.meta.dir, "..", "fixtures", "import");
/** The account's row as stored (fields the redacted view does not show). */
const storedRow = (s: Services, id: string) => new AccountStore(s.db).loadAll().find((r) => r.id === id)!;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kiro-import-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kiroCliDb(): string {
  const path = join(dir, `kiro-cli-${crypto.randomUUID()}.sqlite3`);
  const db = new Database(path, { create: true });
  db.exec(readFileSync(join(FIX, "kiro-cli.sql"), "utf8"));
  db.close();
  return path;
}

async function importFile(path: string) {
  const s = await makeServices();
  const { format, entries } = parseImportFile(path);
  const lines = await importEntries(s.pool, entries);
  return { s, format, lines, byWhere: new Map(lines.map((l) => [l.where, l])) };
}

describe("formats", () => {
  test("Kiro IDE social cache: token, profile ARN, still-valid access token", async () => {
    const { s, format, lines } = await importFile(join(FIX, "ide-social", "kiro-auth-token.json"));
    expect(format).toBe("kiro-ide");
    expect(lines.map((l) => l.outcome)).toEqual(["added"]);
    const v = s.pool.get(lines[0]!.id!)!;
    expect(v).toMatchObject({ kind: "social", source: "kiro-ide", profileArn: "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF", label: "Kiro IDE (Google)" });
    expect(v.accessExpiresAt).toBe(Date.parse("2099-01-12T23:00:00.000Z"));
  });

  test("Kiro IDE IdC cache: client id/secret from {clientIdHash}.json, expired access token dropped", async () => {
    const { s, lines } = await importFile(join(FIX, "ide-idc", "kiro-auth-token.json"));
    const v = s.pool.get(lines[0]!.id!)!;
    expect(v).toMatchObject({ kind: "idc", hasClientSecret: true });
    expect(v.accessExpiresAt).toBeUndefined();
    const row = storedRow(s, v.id);
    expect(row.clientId).toBe("ide-idc-client-id");
    expect(await s.box.decrypt(row.clientSecretEnc!)).toStartWith("ide-idc-client-secret-");
  });

  test("Kiro IDE IdC cache without its registration file is skipped with the reason", async () => {
    const d = join(dir, "ide-noreg");
    mkdirSync(d, { recursive: true });
    copyFileSync(join(FIX, "ide-idc", "kiro-auth-token.json"), join(d, "kiro-auth-token.json"));
    const { lines } = await importFile(join(d, "kiro-auth-token.json"));
    expect(lines[0]).toMatchObject({ outcome: "skipped" });
    expect(lines[0]!.why).toContain("client registration");
  });

  test("kiro-cli SQLite: social + IdC (registration, profile from state), external IdP skipped", async () => {
    const { s, format, lines } = await importFile(kiroCliDb());
    expect(format).toBe("kiro-cli");
    expect(lines.map((l) => [l.where.split("#")[1], l.outcome])).toEqual([
      ["kirocli:external-idp:token", "skipped"],
      ["kirocli:social:token", "added"],
      ["kirocli:odic:token", "added"],
    ]);
    const social = s.pool.get(lines[1]!.id!)!;
    const idc = s.pool.get(lines[2]!.id!)!;
    expect(social).toMatchObject({ kind: "social", source: "kiro-cli", profileArn: "arn:aws:codewhisperer:us-east-1:111122223333:profile/CLIPROFILE" });
    expect(social.accessExpiresAt).toBe(Date.parse("2099-05-01T10:00:00.123Z")); // nanoseconds trimmed
    expect(idc).toMatchObject({ kind: "idc", hasClientSecret: true });
    expect(storedRow(s, idc.id).clientId).toBe("cli-client");
  });

  test("KAM nested export: error status, truncated and empty rows skipped with reasons", async () => {
    const { s, format, lines } = await importFile(join(FIX, "kam-nested.json"));
    expect(format).toBe("kam");
    expect(lines.map((l) => l.outcome)).toEqual(["added", "added", "skipped", "skipped", "skipped"]);
    expect(lines[2]!.why).toContain('status is "error"');
    expect(lines[3]!.why).toContain("truncated");
    expect(lines[4]!.why).toBe("no refreshToken");
    const social = s.pool.get(lines[0]!.id!)!;
    expect(social).toMatchObject({ kind: "social", email: "kam-social@example.com", userId: "kam-user-1", label: "kam social" });
    // A UUID machineId from the export is kept (de-dashed and doubled, as kiro.rs does).
    expect(storedRow(s, social.id).machineId).toBe("8c6f1c3e2b7d4c8e9a1b0f1e2d3c4b5a".repeat(2));
    expect(s.pool.get(lines[1]!.id!)).toMatchObject({ kind: "idc", region: "eu-west-1", hasClientSecret: true });
  });

  test("KAM flat export (bare array): kind by client fields (KAM rule), non-objects skipped", async () => {
    const { s, lines } = await importFile(join(FIX, "kam-flat.json"));
    expect(lines.map((l) => l.outcome)).toEqual(["added", "added", "added", "skipped"]);
    expect(lines[3]!.why).toBe("not an object");
    expect(s.pool.get(lines[1]!.id!)).toMatchObject({ kind: "idc", label: "flat idc" });
    // IdC iff clientId AND clientSecret are both present, whatever authMethod says.
    expect(s.pool.get(lines[2]!.id!)).toMatchObject({ kind: "social", label: "flat idc missing secret" });
  });

  test("kiro2api JSON: disabled flag, default auth, IdC secrets kept, bad rows explained", async () => {
    const { s, format, lines } = await importFile(join(FIX, "kiro2api.json"));
    expect(format).toBe("kiro2api");
    expect(lines.map((l) => l.outcome)).toEqual(["added", "added", "added", "skipped", "skipped", "skipped"]);
    expect(s.pool.get(lines[0]!.id!)).toMatchObject({ kind: "social", label: "k2a social", state: "active" });
    expect(s.pool.get(lines[1]!.id!)).toMatchObject({ kind: "idc", state: "disabled", hasClientSecret: true });
    expect(s.pool.get(lines[2]!.id!)).toMatchObject({ kind: "social" });
    expect(lines[3]!.why).toContain("clientId/clientSecret");
    expect(lines[4]!.why).toBe("no refreshToken");
    expect(lines[5]!.why).toContain('unknown auth method "Mystery"');
  });

  test("importing the same file twice adds nothing", async () => {
    const { s } = await importFile(join(FIX, "kam-nested.json"));
    const again = await importEntries(s.pool, parseImportFile(join(FIX, "kam-nested.json")).entries);
    expect(again.filter((l) => l.outcome === "added")).toHaveLength(0);
    expect(again[0]).toMatchObject({ outcome: "skipped", why: "already present, unchanged" });
    expect(s.pool.list()).toHaveLength(2);
  });

  test("same person, new login (same userId): a dead stored token is replaced without a refresh", async () => {
    // The fake knows neither token: its refresh endpoint answers 401 "Bad credentials" (dead).
    const fake = await startFakeKiro();
    try {
      const s = await makeServices({ apiUrl: fake.upstream.apiUrl, authUrl: fake.upstream.authUrl, oidcUrl: fake.upstream.oidcUrl });
      const a = await s.pool.upsert({ kind: "social", refreshToken: "aorA".padEnd(150, "1"), userId: "u-1" });
      const err = await s.pool.refreshNow(a.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KiroError);
      expect((err as KiroError).cls).toBe("dead_refresh_token");
      expect(s.pool.get(a.id)!.stateReason).toBe("refresh token rejected");
      const refreshes = fake.refreshCalls.length;
      const b = await s.pool.upsert({ kind: "social", refreshToken: "aorA".padEnd(150, "2"), userId: "u-1" });
      expect(b).toMatchObject({ id: a.id, outcome: "updated" });
      expect(s.pool.get(a.id)).toMatchObject({ fingerprint: fingerprintOf("aorA".padEnd(150, "2")), state: "active" });
      expect(fake.refreshCalls.length).toBe(refreshes);
      s.pool.close();
    } finally {
      await fake.stop();
    }
  });
});

describe("entry points", () => {
  test("kiro-server import: files, --from-kiro-ide and --from-kiro-cli with per-entry lines", async () => {
    const dbPath = join(dir, "cli.db");
    const { config } = loadConfig([], {});
    const cfg = { ...config, dbPath, secretKey: "cli-test-secret-0123456789" };
    const prevIde = process.env.KIRO_IDE_TOKEN_PATH, prevCli = process.env.KIRO_CLI_DB_PATH;
    process.env.KIRO_IDE_TOKEN_PATH = join(FIX, "ide-social", "kiro-auth-token.json");
    process.env.KIRO_CLI_DB_PATH = kiroCliDb();
    const out: string[] = [];
    try {
      const code = await runImportCommand(cfg, [join(FIX, "kiro2api.json")], ["import", "--from-kiro-ide", "--from-kiro-cli"], (l) => out.push(l));
      expect(code).toBe(0);
    } finally {
      process.env.KIRO_IDE_TOKEN_PATH = prevIde;
      process.env.KIRO_CLI_DB_PATH = prevCli;
    }
    const text = out.join("\n");
    expect(text).toContain("(kiro2api)");
    expect(text).toMatch(/added\s+\[0\] → k2a social/);
    expect(text).toMatch(/skipped \[3\] \(IdC account without clientId\/clientSecret/);
    expect(text).toContain("Kiro IDE");
    expect(text).toContain("kirocli:social:token");
    expect(out.at(-1)).toMatch(/^import: 6 added, 0 updated, 4 skipped/);
    expect(text).not.toContain("aorA"); // no token ever printed
    const s = await makeServices({ dbPath, secretKey: cfg.secretKey });
    expect(s.pool.list()).toHaveLength(6);
    await shutdownServices(s);
  });

  test("KIRO_AUTH_TOKEN is upserted at every start (inline JSON or file path)", async () => {
    const dbPath = join(dir, "env.db");
    const file = join(dir, "k2a.json");
    copyFileSync(join(FIX, "kiro2api.json"), file);
    const s1 = await makeServices({ dbPath, secretKey: "env-test-secret-0123456789", authToken: file });
    expect(s1.pool.list()).toHaveLength(3);
    await shutdownServices(s1);
    const inline = JSON.stringify([{ auth: "Social", refreshToken: "aorA".padEnd(140, "n"), description: "inline" }]);
    const logs: string[] = [];
    const { EventBus } = await import("../../src/logs/bus");
    const bus = new EventBus();
    bus.on((e) => { if (e.kind === "log") logs.push(e.msg); });
    const { bootServices } = await import("../../src/boot");
    const { config } = loadConfig([], {});
    const { services: s2 } = await bootServices({ ...config, dbPath, secretKey: "env-test-secret-0123456789", authToken: inline, clientToken: "k", adminToken: "admin-token" }, { bus });
    expect(s2.pool.list()).toHaveLength(4);
    expect(logs.some((l) => /KIRO_AUTH_TOKEN import: 1 added, 0 updated, 0 skipped/.test(l))).toBe(true);
    await shutdownServices(s2);
    const s3 = await makeServices({ dbPath, secretKey: "env-test-secret-0123456789", authToken: file });
    expect(s3.pool.list()).toHaveLength(4); // unchanged rows skipped, nothing duplicated
    await shutdownServices(s3);
  });
});
