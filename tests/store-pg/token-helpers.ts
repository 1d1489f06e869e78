import { SecretBox } from "../../src/crypto/secret-box";
import type { PgDb } from "../../src/db/pg/client";
import { accounts } from "../../src/db/schema-pg";

/** The pool's fingerprint rule: sha256 of the refresh token, first 16 hex characters. */
export const fingerprint = (refreshToken: string) => new Bun.CryptoHasher("sha256").update(refreshToken).digest("hex").slice(0, 16);

/** Inserts a social account row holding `refreshToken` (encrypted), no access token yet. */
export async function insertAccount(db: PgDb, box: SecretBox, id: string, refreshToken: string): Promise<void> {
  const now = Date.now();
  await db.insert(accounts).values({
    id, kind: "social", label: id, machineId: "m".repeat(64), fingerprint: fingerprint(refreshToken),
    refreshTokenEnc: await box.encrypt(refreshToken), createdAt: now, updatedAt: now,
  });
}
