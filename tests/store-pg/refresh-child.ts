// Child process for token-store.test.ts: one "instance" that is killed with -9 in the middle of a
// refresh. Mode "before-upstream": holds the account's refresh lock, prints "refreshing", hangs
// before calling upstream. Mode "after-store": refreshes against the fake Kiro, stores the rotated
// tokens (compare-and-swap), prints "stored", hangs before using them or releasing the lock.
import { SecretBox } from "../../src/crypto/secret-box";
import { openPg } from "../../src/db/pg/client";
import { withAdvisoryLock } from "../../src/db/pg/lock";
import { PgTokenStore } from "../../src/db/pg/token-store";
import { refreshAccessToken } from "../../src/kiro/auth";
import { fingerprint } from "./token-helpers";

const [url, accountId, authUrl, mode, secret] = process.argv.slice(2) as [string, string, string, string, string];
const db = openPg(url, { max: 3 });
const store = new PgTokenStore(db, await SecretBox.fromSecret(secret), { fingerprint });
const box = await SecretBox.fromSecret(secret);
await withAdvisoryLock(db.$client, `refresh:${accountId}`, async () => {
  if (mode === "before-upstream") {
    process.stdout.write("refreshing\n");
    await new Promise(() => {});
  }
  const cur = (await store.read(accountId))!;
  const r = await refreshAccessToken({ kind: "social", refreshToken: await box.decrypt(cur.refreshTokenEnc), authRegion: "us-east-1", machineId: "m".repeat(64) }, { region: "us-east-1", authUrl });
  const swap = await store.swap(accountId, cur.refreshTokenEnc, { refreshToken: r.refreshToken!, accessToken: r.accessToken, expiresAt: r.expiresAt });
  process.stdout.write(swap.ok ? "stored\n" : "swap failed\n");
  await new Promise(() => {});
});
