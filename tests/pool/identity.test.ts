/**
 * Who a token belongs to: the Kiro IDE file switching to another person must not hand their token
 * to the old account (ide-sync identity check), and e-mail de-duplication never merges two known
 * different users nor throws away a working token for an unverified one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshAccessToken } from "../../src/kiro/auth";
import { importEntries, parseImportFile } from "../../src/pool/import";
import { IdeSync } from "../../src/pool/ide-sync";
import { fingerprintOf } from "../../src/pool/store";
import { isUnavailable } from "../../src/pool/types";
import type { Services } from "../../src/services";
import { startFakeKiro, type FakeAccount, type FakeKiro } from "../fake-kiro/server";
import { fakeRefreshToken } from "../support/e2e";
import { until } from "../support/until";
import { servicesFor } from "./helpers";

let fake: FakeKiro;
let dir: string;
beforeAll(async () => {
  fake = await startFakeKiro();
  dir = mkdtempSync(join(tmpdir(), "kiro-identity-"));
});
afterAll(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

/** What the IDE does when it refreshes: the fake rotates the token; the file gets the new pair. */
async function ideLogin(acct: FakeAccount) {
  const r = await refreshAccessToken({ kind: "social", refreshToken: acct.currentRefreshToken, authRegion: "us-east-1", machineId: "ide-machine" }, fake.upstream);
  return { refreshToken: r.refreshToken!, accessToken: r.accessToken, expiresAt: new Date(r.expiresAt).toISOString(), authMethod: "social", provider: "Google" };
}

async function importIdeFile(s: Services, doc: Record<string, unknown>) {
  const path = join(dir, `${crypto.randomUUID()}.json`);
  writeFileSync(path, JSON.stringify(doc));
  const [line] = await importEntries(s.pool, parseImportFile(path).entries);
  expect(line!.outcome).toBe("added");
  return { path, id: line!.id! };
}

describe("Kiro IDE file sync checks identity", () => {
  test("same person rotated the token → adopted; the identity is checked with the new token", async () => {
    const s = await servicesFor(fake);
    const alice = fake.addAccount({ refreshToken: fakeRefreshToken(), email: "alice@example.com" });
    const { path, id } = await importIdeFile(s, await ideLogin(alice));
    await s.pool.checkQuota(id); // identity known: alice
    expect(s.pool.get(id)!.email).toBe("alice@example.com");
    const sync = new IdeSync(s.pool, s.log);
    const rotated = await ideLogin(alice);
    writeFileSync(path, JSON.stringify(rotated));
    expect(await sync.check()).toBe(1);
    expect(s.pool.get(id)!.fingerprint).toBe(fingerprintOf(rotated.refreshToken));
    expect(s.pool.list()).toHaveLength(1);
    const usage = fake.requests.filter((r) => r.path === "/getUsageLimits");
    expect(usage.at(-1)!.headers.authorization).toBe(`Bearer ${rotated.accessToken}`);
  });

  test("another person logged in to the IDE → added as a new account, the old one keeps its token", async () => {
    const s = await servicesFor(fake);
    const alice = fake.addAccount({ refreshToken: fakeRefreshToken(), email: "alice@example.com" });
    const bob = fake.addAccount({ refreshToken: fakeRefreshToken(), email: "bob@example.com" });
    const { path, id } = await importIdeFile(s, await ideLogin(alice));
    await s.pool.checkQuota(id);
    const aliceFp = s.pool.get(id)!.fingerprint;
    const sync = new IdeSync(s.pool, s.log);
    const bobFile = await ideLogin(bob);
    writeFileSync(path, JSON.stringify(bobFile));
    expect(await sync.check()).toBe(1);
    const views = s.pool.list();
    expect(views).toHaveLength(2);
    expect(s.pool.get(id)).toMatchObject({ fingerprint: aliceFp, email: "alice@example.com", state: "active" });
    const added = views.find((v) => v.id !== id)!;
    expect(added).toMatchObject({ email: "bob@example.com", source: "kiro-ide", sourcePath: path, fingerprint: fingerprintOf(bobFile.refreshToken) });
    // Alice's account still works with her own token.
    await s.pool.refreshNow(id);
    expect(s.pool.get(id)!.state).toBe("active");
    // Bob's next rotation reaches Bob's account, never Alice's (whichever account the file maps to).
    const aliceNow = s.pool.get(id)!.fingerprint;
    const bobRotated = await ideLogin(bob);
    writeFileSync(path, JSON.stringify(bobRotated));
    expect(await sync.check()).toBe(1);
    expect(s.pool.get(id)!.fingerprint).toBe(aliceNow);
    expect(s.pool.get(added.id)!.fingerprint).not.toBe(fingerprintOf(bobFile.refreshToken));
    expect(s.pool.list()).toHaveLength(2);
  });
});

describe("Kiro IDE file sync timing", () => {
  test("a followed file is polled at the short interval; an import made after start is picked up by the slow one", async () => {
    const s = await servicesFor(fake);
    const alice = fake.addAccount({ refreshToken: fakeRefreshToken(), email: "alice@example.com" });
    const sync = new IdeSync(s.pool, s.log, { pollMs: 20, idlePollMs: 150 });
    const checks: number[] = [];
    const check = sync.check.bind(sync);
    sync.check = () => (checks.push(Date.now()), check());
    // Nothing is followed: the first look is the slow one.
    const t0 = Date.now();
    sync.start();
    await until("the first look", () => checks.length >= 1);
    expect(checks[0]! - t0).toBeGreaterThanOrEqual(140);
    // An account imported from a file after start: followed from the next slow look on.
    const { path, id } = await importIdeFile(s, await ideLogin(alice));
    await s.pool.checkQuota(id);
    const n = checks.length;
    await until("four looks at the followed file", () => checks.length >= n + 4);
    const gaps = checks.slice(n + 1).map((t, i) => t - checks[n + i]!);
    expect(Math.min(...gaps)).toBeLessThan(140);
    const rotated = await ideLogin(alice);
    writeFileSync(path, JSON.stringify(rotated));
    await until("the rotated token to be adopted", () => s.pool.get(id)!.fingerprint === fingerprintOf(rotated.refreshToken));
    sync.stop();
    const stopped = checks.length;
    await Bun.sleep(60);
    expect(checks.length).toBe(stopped);
  });
});

describe("e-mail de-duplication", () => {
  test("same e-mail, different known userIds → two accounts", async () => {
    const s = await servicesFor(fake);
    const a = await s.pool.upsert({ kind: "social", refreshToken: fakeRefreshToken(), email: "team@example.com", userId: "u-a" });
    const b = await s.pool.upsert({ kind: "social", refreshToken: fakeRefreshToken(), email: "team@example.com", userId: "u-b" });
    expect(a.outcome).toBe("added");
    expect(b.outcome).toBe("added");
    expect(s.pool.list()).toHaveLength(2);
  });

  test("unseen token for a known, working account replaces it only after it refreshes", async () => {
    const s = await servicesFor(fake);
    const first = fake.addAccount({ refreshToken: fakeRefreshToken() });
    const a = await s.pool.upsert({ kind: "social", refreshToken: first.refreshToken, email: "me@example.com" });
    const storedFp = s.pool.get(a.id)!.fingerprint;
    // A token the service does not know: kept out, the working one stays.
    const bogus = await s.pool.upsert({ kind: "social", refreshToken: fakeRefreshToken(), email: "me@example.com" });
    expect(bogus).toMatchObject({ id: a.id, outcome: "skipped" });
    expect(bogus.why).toContain("did not refresh");
    expect(s.pool.get(a.id)!.fingerprint).toBe(storedFp);
    // A real second login of the same person: verified, stored as the rotated successor.
    const second = fake.addAccount({ refreshToken: fakeRefreshToken() });
    const ok = await s.pool.upsert({ kind: "social", refreshToken: second.refreshToken, email: "me@example.com" });
    expect(ok).toMatchObject({ id: a.id, outcome: "updated" });
    expect(s.pool.get(a.id)!.fingerprint).toBe(fingerprintOf(second.currentRefreshToken));
    // The verification's access token is the one requests use (no second refresh).
    const refreshes = fake.refreshCalls.length;
    const lease = s.pool.acquire();
    if (isUnavailable(lease)) throw new Error(lease.message);
    expect((await lease.credentials()).accessToken).toBe(second.accessToken!);
    lease.release();
    expect(fake.refreshCalls.length).toBe(refreshes);
    // Re-importing the presented (now rotated-away) token is recognised as an old copy.
    expect(await s.pool.upsert({ kind: "social", refreshToken: second.refreshToken, email: "me@example.com" })).toMatchObject({ id: a.id, outcome: "skipped" });
    expect(s.pool.list()).toHaveLength(1);
  });
});
