/**
 * Client keys on one PostgreSQL database shared by several instances: started together with the
 * same KIRO_CLIENT_TOKEN they make one key row, the same on every instance, and the usage each
 * instance counts lands on it; usage of a key created a moment ago is not written before its row.
 */
import { describe, expect, test } from "bun:test";
import { openPg } from "../../src/db/pg/client";
import { runPgMigrations } from "../../src/db/pg/migrate";
import { PgKeyRepo } from "../../src/db/pg/repos/keys";
import { WriteQueue } from "../../src/db/pg/repos/queue";
import { clientKeys } from "../../src/db/schema-pg";
import { SecretBox } from "../../src/crypto/secret-box";
import { ClientKeys } from "../../src/keys/client-keys";
import { usePostgres } from "../support/postgres";

const pg = usePostgres();

describe.skipIf(!pg.available)("key rows and usage on a shared database", () => {
  test("the same KIRO_CLIENT_TOKEN makes one row; both instances' usage is counted on it", async () => {
    const url = await pg.newDatabase("builtin_key");
    const dbs = [0, 1].map(() => openPg(url, { max: 3 }));
    try {
      await runPgMigrations(dbs[0]!.$client);
      const box = await SecretBox.fromSecret("builtin key test secret, long enough");
      // Both load the (empty) table before either writes: neither sees the other's key.
      const queues = dbs.map(() => new WriteQueue());
      const repos = await Promise.all(dbs.map((db, i) => PgKeyRepo.open(db, queues[i]!, `node-${i}`)));
      const keys = repos.map((r) => new ClientKeys(r, box));
      const token = "sk-shared-cluster-token-0123456789";
      await Promise.all(keys.map((k) => k.ensureBuiltin(token)));
      const ids = keys.map((k) => k.verify(token)!.id);
      expect(ids[0]).toBe(ids[1]!);
      // Usage right away, while the key's row may still be on its way (a separate queue).
      for (const [i, k] of keys.entries()) for (let n = 0; n < 5; n++) await k.recordUsage(ids[i]!, 100);
      for (const k of keys) k.flushUsage();
      await Promise.all(repos.map((r) => r.flush()));
      const rows = await dbs[0]!.select({ id: clientKeys.id, requests: clientKeys.requests, tokens: clientKeys.tokensThisMonth }).from(clientKeys);
      expect(rows).toEqual([{ id: ids[0]!, requests: 10, tokens: 1000 }]);
    } finally {
      await Promise.all(dbs.map((d) => d.$client.close()));
    }
  });

  test("usage of a key created a moment ago waits for the key's row instead of updating nothing", async () => {
    const url = await pg.newDatabase("fresh_key");
    const db = openPg(url, { max: 3 });
    try {
      await runPgMigrations(db.$client);
      const box = await SecretBox.fromSecret("builtin key test secret, long enough");
      const queue = new WriteQueue();
      let release!: () => void;
      queue.push("an earlier write still under way", () => new Promise<void>((r) => (release = r)));
      const repo = await PgKeyRepo.open(db, queue, "node-0");
      const keys = new ClientKeys(repo, box);
      const { record } = await keys.create({ name: "fresh" });
      // The usage write may wait for the state queue (then the held write is let go at once);
      // else it runs now, before the key's row exists.
      let waited = false;
      const settled = queue.settled.bind(queue);
      queue.settled = (prefix) => { waited = true; release(); return settled(prefix); };
      await keys.recordUsage(record.id, 100);
      keys.flushUsage();
      await repo.flush();
      release();
      await queue.flush();
      const rows = await db.select({ requests: clientKeys.requests, tokens: clientKeys.tokensThisMonth }).from(clientKeys);
      expect(rows).toEqual([{ requests: 1, tokens: 100 }]);
      expect(waited).toBe(true);
    } finally {
      await db.$client.close();
    }
  });
});
