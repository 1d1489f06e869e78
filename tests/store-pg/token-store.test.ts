import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SecretBox } from "../../src/crypto/secret-box";
import { openPg, type PgDb } from "../../src/db/pg/client";
import { runPgMigrations } from "../../src/db/pg/migrate";
import { CHANGES_CHANNEL, PgTokenStore } from "../../src/db/pg/token-store";
import { refreshAccessToken } from "../../src/kiro/auth";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { usePostgres } from "../support/postgres";
import { fingerprint, insertAccount } from "./token-helpers";

const pg = usePostgres();
const SECRET = "token-store-secret-key-0123456789";
let fake: FakeKiro;
beforeAll(async () => { fake = await startFakeKiro(); });
afterAll(async () => { await fake.stop(); });

const rt = (tag: string) => `aorA${tag}-${crypto.randomUUID()}`.padEnd(180, "x");
/** The real Kiro refresh call, against the fake (which rotates the refresh token and kills the old one). */
const kiroRefresh = (refreshToken: string) =>
  refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: "m".repeat(64) }, { region: "us-east-1", authUrl: fake.upstream.authUrl });

/** `n` instances: each its own connection pool and token store on the same database. */
async function cluster(n: number) {
  const url = await pg.newDatabase("tokens");
  const box = await SecretBox.fromSecret(SECRET);
  const dbs: PgDb[] = Array.from({ length: n }, () => openPg(url, { max: 4 }));
  await runPgMigrations(dbs[0]!.$client);
  const stores = dbs.map((db, i) => new PgTokenStore(db, box, { fingerprint, instanceId: `instance-${i}` }));
  return { url, box, dbs, stores, close: () => Promise.all(dbs.map((d) => d.$client.close())) };
}

describe.skipIf(!pg.available)("refresh tokens shared by several instances", () => {
  test("three instances × four callers refresh one account exactly once; all use the winner's token", async () => {
    const c = await cluster(3);
    try {
      const acct = fake.addAccount({ refreshToken: rt("shared") });
      await insertAccount(c.dbs[0]!, c.box, "acct-1", acct.refreshToken);
      const before = fake.refreshCalls.length;
      const perInstance = await Promise.all(c.stores.map((s) => Promise.all(Array.from({ length: 4 }, () => s.refreshOnce("acct-1", kiroRefresh)))));
      const results = perInstance.flat();
      expect(fake.refreshCalls.length - before).toBe(1);
      // Callers in one instance share its refresh; exactly one instance refreshed, the others adopted.
      expect(perInstance.map((rs) => [...new Set(rs.map((r) => r.outcome))].join()).sort()).toEqual(["adopted", "adopted", "refreshed"]);
      expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set([acct.accessToken!]));
      // The rotated refresh token was stored: it is the one the fake now accepts.
      const stored = (await c.stores[1]!.read("acct-1"))!;
      expect(await c.box.decrypt(stored.refreshTokenEnc)).toBe(acct.currentRefreshToken);
      expect(stored.fingerprint).toBe(fingerprint(acct.currentRefreshToken));
      // The old fingerprint is remembered, so re-importing the old token finds this account.
      const [{ n }] = await c.dbs[0]!.$client`select count(*)::int as n from account_fingerprints where account_id = 'acct-1' and fingerprint = ${fingerprint(acct.refreshToken)}`;
      expect(n).toBe(1);
    } finally {
      await c.close();
    }
  });

  test("an instance told its token expired refreshes again; one holding an older token adopts the new one", async () => {
    const c = await cluster(2);
    try {
      const acct = fake.addAccount({ refreshToken: rt("expiry") });
      await insertAccount(c.dbs[0]!, c.box, "acct-2", acct.refreshToken);
      const first = await c.stores[0]!.refreshOnce("acct-2", kiroRefresh);
      acct.expireAccessTokens();
      const calls = fake.refreshCalls.length;
      // Both saw the first token rejected; only one refresh happens, the other adopts.
      const [a, b] = await Promise.all([c.stores[0]!.refreshOnce("acct-2", kiroRefresh, first.accessToken), c.stores[1]!.refreshOnce("acct-2", kiroRefresh, first.accessToken)]);
      expect(fake.refreshCalls.length - calls).toBe(1);
      expect([a.outcome, b.outcome].sort()).toEqual(["adopted", "refreshed"]);
      expect(a.accessToken).toBe(b.accessToken);
      expect(a.accessToken).not.toBe(first.accessToken);
    } finally {
      await c.close();
    }
  });

  test("compare-and-swap refuses a write based on a refresh token that is no longer stored, and announces committed swaps", async () => {
    const c = await cluster(2);
    const seen: string[] = [];
    const sub = await c.dbs[1]!.$client.listen(CHANGES_CHANNEL, (p) => seen.push(p));
    try {
      await insertAccount(c.dbs[0]!, c.box, "acct-3", rt("cas"));
      const read = (await c.stores[0]!.read("acct-3"))!;
      const next = { refreshToken: rt("cas-next"), accessToken: "access-1", expiresAt: Date.now() + 3_600_000 };
      const won = await c.stores[0]!.swap("acct-3", read.refreshTokenEnc, next);
      expect(won.ok).toBe(true);
      // What the swap reports as stored is what a read finds.
      if (won.ok) expect(won.stored).toEqual((await c.stores[0]!.read("acct-3"))!);
      const lost = await c.stores[1]!.swap("acct-3", read.refreshTokenEnc, { ...next, refreshToken: rt("cas-loser"), accessToken: "access-2" });
      expect(lost.ok).toBe(false);
      if (!lost.ok) expect(await c.box.decrypt(lost.current!.refreshTokenEnc)).toBe(next.refreshToken);
      const deadline = Date.now() + 5000;
      while (!seen.length && Date.now() < deadline) await Bun.sleep(10);
      expect(seen.map((p) => JSON.parse(p))).toEqual([{ table: "accounts", id: "acct-3", from: "instance-0" }]);
    } finally {
      await sub.unlisten();
      await c.close();
    }
  });

  for (const mode of ["before-upstream", "after-store"] as const) {
    test(`kill -9 of an instance in the middle of a refresh (${mode}) loses no token; the next refresh is accepted`, async () => {
      const c = await cluster(1);
      try {
        const acct = fake.addAccount({ refreshToken: rt(`kill-${mode}`) });
        await insertAccount(c.dbs[0]!, c.box, "acct-k", acct.refreshToken);
        const child = Bun.spawn([process.execPath, join(import.meta.dir, "refresh-child.ts"), c.url, "acct-k", fake.upstream.authUrl, mode, SECRET], { stdout: "pipe", stderr: "inherit" });
        const reader = child.stdout.getReader();
        const said = new TextDecoder().decode((await reader.read()).value);
        reader.releaseLock();
        expect(said).toContain(mode === "before-upstream" ? "refreshing" : "stored");
        child.kill("SIGKILL");
        await child.exited;
        const calls = fake.refreshCalls.length;
        const r = await c.stores[0]!.refreshOnce("acct-k", kiroRefresh, mode === "after-store" ? acct.accessToken : undefined);
        if (mode === "after-store") {
          // The killed instance stored the rotated token before dying; presenting the stored one works.
          expect(r.outcome).toBe("refreshed");
          expect(fake.refreshCalls.at(-1)!.refreshToken).not.toBe(acct.refreshToken);
        }
        expect(fake.refreshCalls.length - calls).toBe(1);
        expect(r.accessToken).toBe(acct.accessToken!);
        expect(r.refreshToken).toBe(acct.currentRefreshToken);
      } finally {
        await c.close();
      }
    }, 30_000);
  }
});
