/**
 * kill -9 of the real executable in the middle of an import (`kiro-server import FILE`, the real
 * CLI in its own process): the database stays consistent, the interrupted import can simply be run
 * again, and the result is every account exactly once, each readable with the key.
 * (kill -9 during refreshes, and during imports through the pool directly, are covered step by
 * step in tests/pool/persistence.test.ts.)
 */
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loadConfig } from "../../src/config/load";
import { bootServices, shutdownServices } from "../../src/boot";

const dir = mkdtempSync(join(tmpdir(), "kiro-kill9-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "kill9-secret-key-0123456789abcdef";
// Enough rows that the import is still running when the first ones are seen, even on a loaded machine.
const N = 1000;

function runImport(dbPath: string, file: string) {
  return Bun.spawn(["bun", join(import.meta.dir, "..", "..", "src", "index.ts"), "import", file], {
    env: { ...process.env, KIRO_KV_PATH: dbPath, KIRO_SECRET_KEY: SECRET, KIRO_AUTH_TOKEN: "", LOG_LEVEL: "error" },
    stdout: "pipe",
    stderr: "pipe",
  });
}

function storedCount(dbPath: string): number {
  try {
    const db = new Database(dbPath, { readonly: true });
    try {
      return (db.query("select count(*) as n from accounts").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created / migrated yet
  }
}

test("kill -9 during `kiro-server import`: consistent database, the import re-runs to every account exactly once", async () => {
  const file = join(dir, "accounts.json");
  const entries = Array.from({ length: N }, (_, i) => ({
    auth: "IdC",
    refreshToken: `aorA${String(i).padStart(5, "0")}${"k".repeat(170)}`,
    clientId: `client-${i}`,
    clientSecret: `secret-${i}-${"s".repeat(40)}`,
    description: `kill9-${i}`,
  }));
  writeFileSync(file, JSON.stringify(entries));
  const dbPath = join(dir, "kiro.db");

  const first = runImport(dbPath, file);
  // Wait until the import is under way (rows landing), then kill it mid-flight.
  let seen = 0;
  while (first.exitCode === null && (seen = storedCount(dbPath)) < 5) await Bun.sleep(5);
  if (first.exitCode !== null) {
    // Ended on its own before any kill: say how, instead of failing on the signal below.
    const stderr = await new Response(first.stderr).text();
    throw new Error(`the import exited with code ${first.exitCode} after ${seen} account(s), before it could be killed: ${stderr.slice(-2000)}`);
  }
  first.kill("SIGKILL");
  await first.exited;
  expect(first.signalCode).toBe("SIGKILL");
  const afterKill = storedCount(dbPath);
  expect(afterKill).toBeGreaterThanOrEqual(seen);
  expect(afterKill).toBeLessThan(N);

  // The database opens, migrates and reads after the kill; the import runs again to the end.
  const second = runImport(dbPath, file);
  const out = await new Response(second.stdout).text();
  expect(await second.exited).toBe(0);
  expect(out).toContain("import:");

  const { config } = loadConfig([], {});
  const { services } = await bootServices({ ...config, dbPath, secretKey: SECRET, clientToken: "kill9-client", adminToken: "kill9-admin-token" });
  try {
    const list = services.pool.list();
    expect(list.length).toBe(N);
    expect(new Set(list.map((a) => a.fingerprint)).size).toBe(N);
    expect(new Set(list.map((a) => a.label)).size).toBe(N);
    // Boot checked the key against the stored secrets (src/db/secrets-check.ts); every row kept its client secret.
    expect(list.every((a) => a.hasClientSecret && a.state === "active")).toBe(true);
  } finally {
    await shutdownServices(services);
  }
}, 60_000);
