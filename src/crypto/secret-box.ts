import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Encrypts secrets at rest (refresh/access tokens, client secrets, generated keys) with
 * AES-256-GCM via WebCrypto. The key lives outside the database: KIRO_SECRET_KEY, or a 0600 key
 * file next to it. A wrong or lost key fails loudly (GCM authentication), never as garbage.
 */
export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretKeyError";
  }
}

const PREFIX = "v1:";

export class SecretBox {
  private constructor(private readonly key: CryptoKey) {}

  /** From a user-supplied passphrase/key string (sha256 → 32 bytes). */
  static async fromSecret(secret: string): Promise<SecretBox> {
    const raw = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
    return new SecretBox(await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
  }

  /** Reads the key file, creating a random one (mode 0600) when it does not exist yet. */
  static async fromKeyFile(path: string): Promise<{ box: SecretBox; created: boolean }> {
    let created = false;
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      writeFileSync(path, Buffer.from(bytes).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
      created = true;
    }
    try { chmodSync(path, 0o600); } catch { /* not fatal on filesystems without modes */ }
    const b64 = readFileSync(path, "utf8").trim();
    const raw = Buffer.from(b64, "base64");
    if (raw.length !== 32) throw new SecretKeyError(`secret key file ${path} is damaged (expected 32 base64 bytes)`);
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    return { box: new SecretBox(key), created };
  }

  async encrypt(plain: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, this.key, new TextEncoder().encode(plain)));
    const out = new Uint8Array(iv.length + ct.length);
    out.set(iv);
    out.set(ct, iv.length);
    return PREFIX + Buffer.from(out).toString("base64");
  }

  async decrypt(sealed: string): Promise<string> {
    if (!sealed.startsWith(PREFIX)) throw new SecretKeyError("stored secret has an unknown format");
    const bytes = Buffer.from(sealed.slice(PREFIX.length), "base64");
    try {
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12) }, this.key, bytes.subarray(12));
      return new TextDecoder().decode(plain);
    } catch {
      throw new SecretKeyError("stored secret cannot be decrypted with this key (wrong or replaced secret key)");
    }
  }
}

export const keyFilePathFor = (dbPath: string) => `${dbPath}.key`;
