import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { settings } from "./schema";
import { SecretBox, SecretKeyError } from "../crypto/secret-box";

const CHECK_KEY = "crypto_check";
const CHECK_PLAIN = "kiro-server secret check";

/**
 * Stores one known value encrypted with the key on first use; on every later start, decrypting
 * it proves the key matches the database before any account secret is touched.
 */
export async function verifySecretKey(db: Db, box: SecretBox, keySource: string): Promise<void> {
  const row = db.select().from(settings).where(eq(settings.key, CHECK_KEY)).get();
  if (!row) {
    db.insert(settings).values({ key: CHECK_KEY, value: await box.encrypt(CHECK_PLAIN), updatedAt: Date.now() }).run();
    return;
  }
  let plain: string;
  try {
    plain = await box.decrypt(row.value);
  } catch {
    plain = "";
  }
  if (plain !== CHECK_PLAIN) {
    throw new SecretKeyError(
      `the secret key (${keySource}) does not match this database: its stored tokens cannot be decrypted. ` +
        `Restore the original key file or KIRO_SECRET_KEY, or start with a new database.`,
    );
  }
}
