/**
 * Child process for the kill -9 tests (persistence.test.ts). Prints one line per durable step
 * AFTER the step returned, so anything printed must survive a SIGKILL.
 *   bun tests/pool/kill-child.ts import  DB SECRET            → "added <fingerprint>" per account
 *   bun tests/pool/kill-child.ts refresh DB SECRET FAKE_URL   → "rotated <id> <fingerprint>" per refresh
 */
import { loadConfig } from "../../src/config/load";
import { bootServices } from "../../src/boot";

const [mode, dbPath, secretKey, fakeUrl] = process.argv.slice(2);
const { config } = loadConfig([], {});
const { services } = await bootServices({
  ...config,
  dbPath: dbPath!,
  secretKey,
  clientToken: "test-client-key",
  adminToken: "test-admin-token",
  ...(fakeUrl ? { apiUrl: fakeUrl, authUrl: fakeUrl, oidcUrl: fakeUrl } : {}),
});
const pool = services.pool;
const out = (line: string) => process.stdout.write(line + "\n");
out("ready");

if (mode === "import") {
  for (let i = 0; i < 100_000; i++) {
    const token = `aorAkill-${i}-${crypto.randomUUID()}`.padEnd(200, "k");
    const r = await pool.upsert({ kind: "idc", refreshToken: token, clientId: `cid-${i}`, clientSecret: `secret-${i}`, label: `kill-${i}` });
    out(`added ${pool.get(r.id)!.fingerprint}`);
  }
} else if (mode === "refresh") {
  const ids = pool.list().map((a) => a.id);
  for (let round = 0; round < 100_000; round++) {
    for (const id of ids) {
      await pool.refreshNow(id);
      out(`rotated ${id} ${pool.get(id)!.fingerprint}`);
    }
  }
}
