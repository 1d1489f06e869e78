/**
 * Two instances on one PostgreSQL database adding the same refresh token at the same moment (each
 * started with the same KIRO_AUTH_TOKEN, or two admins pasting one token): one account, the same
 * row on both, and every request either instance serves on it counted there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { TEST_CLIENT_KEY } from "../support/app";
import { fakeRefreshToken } from "../support/e2e";
import { startInstance, type Instance } from "../support/cluster";
import { usePostgres } from "../support/postgres";
import { accountIdFor, fingerprintOf } from "../../src/pool/store";

const pg = usePostgres();
const SECRET = "same-token-test-secret-key-0123";

describe.skipIf(!pg.available)("the same token added on two instances at once", () => {
  let fake: FakeKiro;
  let nodes: Instance[] = [];
  let databaseUrl = "";

  beforeAll(async () => {
    fake = await startFakeKiro();
    databaseUrl = await pg.newDatabase("same_token");
    for (const id of ["node-a", "node-b"]) nodes.push(await startInstance(id, databaseUrl, fake, SECRET));
  }, 30_000);
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await fake.stop();
  });

  test("one row, the same account in both pools, and both instances' requests counted on it", async () => {
    const acct = fake.addAccount({ refreshToken: fakeRefreshToken() });
    const up = fake.upstream;
    // Neither instance has seen the other's row when it adds its own.
    const added = await Promise.all(nodes.map((n) => n.services.pool.upsert({ kind: acct.kind, refreshToken: acct.refreshToken, label: "shared", email: acct.email, region: up.region, authRegion: up.region, source: "test" })));
    expect(added.map((r) => r.outcome)).toEqual(["added", "added"]);
    const id = accountIdFor(fingerprintOf(acct.refreshToken));
    expect(added.map((r) => (r.outcome === "skipped" ? r.why : r.id))).toEqual([id, id]);
    const per = 12;
    for (const n of nodes) {
      for (let i = 0; i < per; i++) {
        const res = await fetch(`${n.url}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": TEST_CLIENT_KEY, "anthropic-version": "2023-06-01" },
          body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: `hi ${n.id} ${i}` }] }),
        });
        expect(res.status).toBe(200);
        await res.text();
      }
    }
    for (const n of nodes) {
      n.services.pool.flush();
      await n.services.store.flush();
      expect(n.services.pool.list().map((a) => a.id)).toEqual([id]);
    }
    const sql = new SQL(databaseUrl, { max: 1 });
    try {
      const rows: Array<{ id: string; requests: number }> = await sql`select id, requests::int as requests from accounts`;
      expect(rows).toEqual([{ id, requests: 2 * per }]);
    } finally {
      await sql.close();
    }
    // One refresh for the account across both instances (they share its row, so its cluster lock).
    expect(fake.refreshCalls.filter((c) => c.refreshToken === acct.refreshToken).length).toBe(1);
  }, 30_000);
});
