/**
 * `kiro-server migrate-store --to postgres://… [--log-days N]`: copies this install's SQLite store
 * (the --db / KIRO_KV_PATH file) into PostgreSQL — accounts with their encrypted secrets, their
 * fingerprint history, client keys, settings, the recent request log and the stored Responses not
 * yet expired (so `previous_response_id` keeps working across the move) — and prints counts.
 *
 * Safe to run again: rows are matched by id (request-log rows by origin), present rows are left
 * alone unless the SQLite copy is newer (accounts and settings carry `updated_at`), so a second
 * run adds nothing. Secrets are decrypted with the SQLite install's key (its key file or
 * KIRO_SECRET_KEY, whichever opens it) and encrypted again with KIRO_SECRET_KEY, the key every
 * PostgreSQL instance shares; every copied secret is decrypted once more as a check.
 */
import { existsSync } from "node:fs";
import { and, eq, gt, gte, sql as dsql } from "drizzle-orm";
import { ConfigError, loadConfig } from "../config/load";
import type { AppConfig } from "../config/schema";
import { SecretBox, SecretKeyError, keyFilePathFor } from "../crypto/secret-box";
import { openDb, type Db } from "../db/client";
import { runMigrations } from "../db/migrate";
import * as lite from "../db/schema";
import * as pg from "../db/schema-pg";
import { openPostgresStore } from "../db/pg/engine";
import type { PgDb } from "../db/pg/client";
import { storeRequestLog } from "../db/pg/request-log";
import { isPostgresUrl, redactUrl } from "../db/pg/url";

export const MIGRATE_STORE_HELP = `usage: kiro-server migrate-store --to postgres://user:pass@host:5432/db [--db FILE] [--log-days N]
  copies accounts, client keys, settings, the recent request log and the stored Responses
  --to        the PostgreSQL database to fill (its schema is created or updated first)
  --db        the SQLite file to copy (default: KIRO_KV_PATH, else the user data dir)
  --log-days  request-log rows younger than this many days are copied (default: the retention setting)
  KIRO_SECRET_KEY must be set: it is the key every PostgreSQL instance shares, and the secrets are
  re-encrypted with it.`;

/** Rows that came from SQLite carry this instance id in the PostgreSQL request log. */
export const IMPORTED_INSTANCE = "sqlite-import";
const CHECK_KEY = "crypto_check";
const CHECK_PLAIN = "kiro-server secret check";

export type TableCount = { added: number; updated: number; present: number; skipped: number };
export type MigrateStoreReport = {
  accounts: TableCount;
  fingerprints: TableCount;
  clientKeys: TableCount;
  settings: TableCount;
  requestLog: TableCount & { sinceDays: number };
  storedResponses: TableCount;
  /** Secrets in the target that were decrypted with KIRO_SECRET_KEY after the copy. */
  secretsVerified: number;
};

const zero = (): TableCount => ({ added: 0, updated: 0, present: 0, skipped: 0 });

/** Splits `migrate-store` and its own switches from the server settings. */
export function parseMigrateStoreArgs(argv: string[]): { to?: string; logDays?: number; rest: string[] } {
  const rest: string[] = [];
  let to: string | undefined;
  let logDays: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "migrate-store") continue;
    const own = /^--(to|log-days)(?:=(.*))?$/.exec(a);
    if (!own) { rest.push(a); continue; }
    const value = own[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`option --${own[1]} needs a value\n${MIGRATE_STORE_HELP}`);
    if (own[1] === "to") to = value;
    else {
      logDays = Number(value);
      if (!Number.isInteger(logDays) || logDays < 0 || logDays > 3650) throw new ConfigError(`option --log-days needs a whole number of days 0-3650`);
    }
  }
  return { to, logDays, rest };
}

export async function runMigrateStoreCommand(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  out: (line: string) => void = console.log,
): Promise<number> {
  const parsed = parseMigrateStoreArgs(argv);
  const to = parsed.to ?? (isPostgresUrl(env.DATABASE_URL) ? env.DATABASE_URL : undefined);
  if (!to) throw new ConfigError(`migrate-store needs --to postgres://…\n${MIGRATE_STORE_HELP}`);
  if (!isPostgresUrl(to)) throw new ConfigError(`migrate-store --to must be a postgres:// or postgresql:// URL`);
  // DATABASE_URL names the target here, not the store to open: the source is always the SQLite file.
  const { config } = loadConfig(parsed.rest, { ...env, DATABASE_URL: undefined });
  if (!config.secretKey) throw new ConfigError(`migrate-store needs KIRO_SECRET_KEY (or --secret-key): every PostgreSQL instance decrypts the stored tokens with it\n${MIGRATE_STORE_HELP}`);
  if (config.dbPath === ":memory:" || !existsSync(config.dbPath)) throw new ConfigError(`migrate-store: no SQLite database at ${config.dbPath} (set --db or KIRO_KV_PATH)`);

  const report = await migrateStore({ ...config, secretKey: config.secretKey }, to, { logDays: parsed.logDays, out });
  const line = (name: string, c: TableCount) => `  ${name.padEnd(22)} ${c.added} added, ${c.updated} updated, ${c.present} already present, ${c.skipped} skipped`;
  out(line("accounts", report.accounts));
  out(line("account fingerprints", report.fingerprints));
  out(line("client keys", report.clientKeys));
  out(line("settings", report.settings));
  out(line(`request log (${report.requestLog.sinceDays} d)`, report.requestLog));
  out(line("stored responses", report.storedResponses));
  out(`  secrets                ${report.secretsVerified} decrypt with KIRO_SECRET_KEY`);
  out(`migrate-store: done — ${redactUrl(to)}`);
  return 0;
}

/** The copy itself; throws SecretKeyError when no available key opens the SQLite store. */
export async function migrateStore(
  config: AppConfig & { secretKey: string },
  url: string,
  opts: { logDays?: number; out?: (line: string) => void; now?: number } = {},
): Promise<MigrateStoreReport> {
  const out = opts.out ?? (() => {});
  const source = openDb(config.dbPath);
  try {
    runMigrations(source);
    const from = await sourceBox(source, config);
    const target = await SecretBox.fromSecret(config.secretKey);
    const { db, applied, total } = await openPostgresStore(url);
    out(`migrate-store: SQLite ${config.dbPath} (${from.source}) → PostgreSQL ${redactUrl(url)} (schema: ${total} migration(s), ${applied} applied now)`);
    try {
      await checkTargetKey(db, target);
      const retention = runtimeRetentionDays(source);
      const sinceDays = opts.logDays ?? retention;
      const recrypt = async (v: string | null) => (v == null ? null : target.encrypt(await from.box.decrypt(v)));
      const report = await db.transaction(async (tx) => {
        const r: MigrateStoreReport = { accounts: zero(), fingerprints: zero(), clientKeys: zero(), settings: zero(), requestLog: { ...zero(), sinceDays }, storedResponses: zero(), secretsVerified: 0 };
        await copyAccounts(source, tx as unknown as PgDb, recrypt, r.accounts);
        await copyFingerprints(source, tx as unknown as PgDb, r.fingerprints);
        const keyIds = await copyKeys(source, tx as unknown as PgDb, recrypt, r.clientKeys);
        await copySettings(source, tx as unknown as PgDb, recrypt, r.settings);
        await copyRequestLog(source, tx as unknown as PgDb, (opts.now ?? Date.now()) - sinceDays * 86_400_000, r.requestLog);
        await copyStoredResponses(source, tx as unknown as PgDb, keyIds, opts.now ?? Date.now(), r.storedResponses);
        return r;
      });
      report.secretsVerified = await verifySecrets(db, target);
      return report;
    } finally {
      await db.$client.close();
    }
  } finally {
    source.$client.close();
  }
}

/** The key that opens the SQLite store: its key file, or KIRO_SECRET_KEY when the install used that. */
async function sourceBox(db: Db, config: AppConfig & { secretKey: string }): Promise<{ box: SecretBox; source: string }> {
  const row = db.select().from(lite.settings).where(eq(lite.settings.key, CHECK_KEY)).get();
  const candidates: Array<{ source: string; make: () => Promise<SecretBox> }> = [];
  const keyFile = keyFilePathFor(config.dbPath);
  if (existsSync(keyFile)) candidates.push({ source: `key file ${keyFile}`, make: async () => (await SecretBox.fromKeyFile(keyFile)).box });
  candidates.push({ source: "KIRO_SECRET_KEY", make: () => SecretBox.fromSecret(config.secretKey) });
  for (const c of candidates) {
    const box = await c.make();
    if (!row) return { box, source: c.source }; // never started with secrets: nothing to decrypt
    const plain = await box.decrypt(row.value).catch(() => "");
    if (plain === CHECK_PLAIN) return { box, source: c.source };
  }
  throw new SecretKeyError(`migrate-store: neither ${candidates.map((c) => c.source).join(" nor ")} opens the SQLite store ${config.dbPath}`);
}

/** The target keeps one check value; when it exists already it must open with KIRO_SECRET_KEY. */
async function checkTargetKey(db: PgDb, box: SecretBox): Promise<void> {
  const [row] = await db.select().from(pg.settings).where(eq(pg.settings.key, CHECK_KEY));
  if (!row) {
    await db.insert(pg.settings).values({ key: CHECK_KEY, value: await box.encrypt(CHECK_PLAIN), updatedAt: Date.now() }).onConflictDoNothing();
    return;
  }
  const plain = await box.decrypt(row.value).catch(() => "");
  if (plain !== CHECK_PLAIN) throw new SecretKeyError("migrate-store: KIRO_SECRET_KEY does not match the PostgreSQL store (its stored tokens were encrypted with another key)");
}

function runtimeRetentionDays(db: Db): number {
  const row = db.select().from(lite.settings).where(eq(lite.settings.key, "runtime_settings")).get();
  try {
    const days = row ? (JSON.parse(row.value) as { logRetentionDays?: unknown }).logRetentionDays : undefined;
    return typeof days === "number" && days > 0 ? days : 30;
  } catch {
    return 30;
  }
}

type Recrypt = (v: string | null) => Promise<string | null>;

/** Present rows are overwritten only by a newer SQLite copy (`updated_at`), never by an older one. */
async function copyAccounts(source: Db, db: PgDb, recrypt: Recrypt, count: TableCount): Promise<void> {
  for (const a of source.select().from(lite.accounts).all()) {
    const [same] = await db.select({ id: pg.accounts.id, updatedAt: pg.accounts.updatedAt }).from(pg.accounts).where(eq(pg.accounts.fingerprint, a.fingerprint));
    if (same && same.id !== a.id) { count.skipped++; continue; } // the same token is another account there already
    const row = {
      ...a,
      refreshTokenEnc: (await recrypt(a.refreshTokenEnc))!,
      accessTokenEnc: await recrypt(a.accessTokenEnc),
      clientSecretEnc: await recrypt(a.clientSecretEnc),
    };
    const [existing] = same ? [same] : await db.select({ id: pg.accounts.id, updatedAt: pg.accounts.updatedAt }).from(pg.accounts).where(eq(pg.accounts.id, a.id));
    if (!existing) { await db.insert(pg.accounts).values(row); count.added++; continue; }
    if (existing.updatedAt >= a.updatedAt) { count.present++; continue; }
    const { id: _id, ...changes } = row;
    await db.update(pg.accounts).set(changes).where(eq(pg.accounts.id, a.id));
    count.updated++;
  }
}

async function copyFingerprints(source: Db, db: PgDb, count: TableCount): Promise<void> {
  for (const f of source.select().from(lite.accountFingerprints).all()) {
    const r = await db.insert(pg.accountFingerprints).values(f).onConflictDoNothing().returning({ fp: pg.accountFingerprints.fingerprint });
    if (r.length) count.added++;
    else count.present++;
  }
}

/**
 * Keys are matched by id; a key whose hash is already another key there is skipped. Returns, for
 * each skipped key, the id the same secret has there (what its stored Responses belong to now).
 */
async function copyKeys(source: Db, db: PgDb, recrypt: Recrypt, count: TableCount): Promise<Map<string, string>> {
  const moved = new Map<string, string>();
  for (const k of source.select().from(lite.clientKeys).all()) {
    const [byId] = await db.select({ id: pg.clientKeys.id }).from(pg.clientKeys).where(eq(pg.clientKeys.id, k.id));
    if (byId) { count.present++; continue; }
    const [byHash] = await db.select({ id: pg.clientKeys.id }).from(pg.clientKeys).where(eq(pg.clientKeys.keyHash, k.keyHash));
    if (byHash) { moved.set(k.id, byHash.id); count.skipped++; continue; }
    await db.insert(pg.clientKeys).values({ ...k, keyEnc: await recrypt(k.keyEnc) });
    count.added++;
  }
  return moved;
}

/** JSON settings are copied as they are; encrypted ones (server-generated secrets) are re-encrypted. */
async function copySettings(source: Db, db: PgDb, recrypt: Recrypt, count: TableCount): Promise<void> {
  for (const s of source.select().from(lite.settings).all()) {
    if (s.key === CHECK_KEY) continue; // the target has its own, for its own key
    // A stored JSON value never starts with "v1:", a sealed secret always does (SecretBox).
    const value = s.value.startsWith("v1:") ? (await recrypt(s.value))! : s.value;
    const [existing] = await db.select({ updatedAt: pg.settings.updatedAt }).from(pg.settings).where(eq(pg.settings.key, s.key));
    if (!existing) { await db.insert(pg.settings).values({ ...s, value }); count.added++; }
    else if (existing.updatedAt < s.updatedAt) { await db.update(pg.settings).set({ value, updatedAt: s.updatedAt }).where(eq(pg.settings.key, s.key)); count.updated++; }
    else count.present++;
  }
}

/** Rows younger than `since`, in batches; a row copied before is found again by its origin. */
async function copyRequestLog(source: Db, db: PgDb, since: number, count: TableCount): Promise<void> {
  const BATCH = 500;
  let lastId = 0;
  for (;;) {
    const rows = source.select().from(lite.requestLog)
      .where(and(gte(lite.requestLog.at, since), dsql`${lite.requestLog.id} > ${lastId}`))
      .orderBy(lite.requestLog.id).limit(BATCH).all();
    if (!rows.length) return;
    lastId = rows.at(-1)!.id;
    const values = rows.map(({ id: _id, ...r }) => ({ ...r, instanceId: IMPORTED_INSTANCE }));
    // Stored with their usage aggregates (rows copied before are skipped and not counted again).
    const inserted = await storeRequestLog(db, values);
    count.added += inserted;
    count.present += rows.length - inserted;
  }
}

/**
 * Stored Responses not yet expired, in batches, as they are (ids, expiry and size included): a
 * response id already there is left alone. A response of a key that exists there under another id
 * (the same secret) goes to that key.
 */
async function copyStoredResponses(source: Db, db: PgDb, keyIds: Map<string, string>, now: number, count: TableCount): Promise<void> {
  const BATCH = 200;
  let lastId = "";
  for (;;) {
    const rows = source.select().from(lite.storedResponses)
      .where(and(gt(lite.storedResponses.expiresAt, now), gt(lite.storedResponses.id, lastId)))
      .orderBy(lite.storedResponses.id).limit(BATCH).all();
    if (!rows.length) return;
    lastId = rows.at(-1)!.id;
    const values = rows.map((r) => ({ ...r, clientKeyId: keyIds.get(r.clientKeyId) ?? r.clientKeyId }));
    const inserted = await db.insert(pg.storedResponses).values(values).onConflictDoNothing().returning({ id: pg.storedResponses.id });
    count.added += inserted.length;
    count.present += rows.length - inserted.length;
  }
}

/** Decrypts every secret in the target once: the copy is only done when they all open. */
async function verifySecrets(db: PgDb, box: SecretBox): Promise<number> {
  let n = 0;
  const open = async (v: string | null) => { if (v != null) { await box.decrypt(v); n++; } };
  for (const a of await db.select().from(pg.accounts)) {
    await open(a.refreshTokenEnc);
    await open(a.accessTokenEnc);
    await open(a.clientSecretEnc);
  }
  for (const k of await db.select({ keyEnc: pg.clientKeys.keyEnc }).from(pg.clientKeys)) await open(k.keyEnc);
  for (const s of await db.select().from(pg.settings)) if (s.value.startsWith("v1:")) await open(s.value);
  return n;
}

