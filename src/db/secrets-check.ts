import type { Db } from "./client";
import type { SettingsRepo } from "./repos";
import { SqliteSettingsRepo } from "./settings-store";
import { SecretBox, SecretKeyError } from "../crypto/secret-box";

const CHECK_KEY = "crypto_check";
const CHECK_PLAIN = "kiro-server secret check";

/**
 * Stores one known value encrypted with the key on first use; on every later start, decrypting
 * it proves the key matches the database before any account secret is touched. Accepts the
 * settings repository of either engine (or a SQLite database).
 */
export async function verifySecretKey(store: Db | SettingsRepo, box: SecretBox, keySource: string): Promise<void> {
  const repo = "putIfAbsent" in store ? store : new SqliteSettingsRepo(store);
  const stored = repo.get(CHECK_KEY) ?? (await repo.putIfAbsent(CHECK_KEY, await box.encrypt(CHECK_PLAIN), Date.now()));
  let plain: string;
  try {
    plain = await box.decrypt(stored);
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
