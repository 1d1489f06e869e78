import { lt } from "drizzle-orm";
import type { SecretBox } from "../../crypto/secret-box";
import type { Logger } from "../../logs/logger";
import type { KeyTotals, RequestLogEntry, Store, StoreTargets } from "../repos";
import { requestLog } from "../schema-pg";
import { pruneRollups, storeRequestLog } from "./request-log";
import { PgRequestLogReader, PgRollupReader } from "./request-reads";
import { ChangeFeed, diffVersions, rowVersions, type Change } from "./change-feed";
import { openPostgresStore } from "./engine";
import { tryWithAdvisoryLock } from "./lock";
import { PgAccountRepo } from "./repos/accounts";
import { PgKeyRepo } from "./repos/keys";
import { WriteQueue } from "./repos/queue";
import { PgSessionRepo } from "./repos/sessions";
import { PgSettingsRepo } from "./repos/settings";
import { PgResponsesStore } from "./responses-store";
import { round } from "../sqlite-store";
import { redactUrl } from "./url";

export type PgStoreOptions = {
  instanceId: string;
  /** KIRO_SECRET_KEY (required in PostgreSQL mode): the admin cookies' signing key derives from it. */
  secretKey: string;
  log?: Logger;
  /** Reconcile period of the change feed (ms). */
  reconcileMs?: number;
};

/** Request-log rows sent per INSERT (one statement per batch, off the request path). */
const LOG_CHUNK = 500;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The PostgreSQL store: connects, migrates under the cluster lock, loads accounts, keys,
 * settings and sessions into memory, and — once attach() names where changes go — keeps that
 * memory in step with the other instances through the change feed (LISTEN/NOTIFY plus a reconcile
 * every `reconcileMs`). Writes leave through queues: state in order, the request log on its own.
 */
export async function openPgStore(url: string, box: SecretBox, opts: PgStoreOptions): Promise<Store> {
  const { db, applied, total } = await openPostgresStore(url, { instanceId: opts.instanceId });
  const sql = db.$client;
  const queue = new WriteQueue(opts.log);
  const logQueue = new WriteQueue(opts.log);
  const id = opts.instanceId;
  const [accounts, keys, settings, sessions] = await Promise.all([
    PgAccountRepo.open(db, box, queue, id),
    PgKeyRepo.open(db, queue, id),
    PgSettingsRepo.open(db, queue, id),
    PgSessionRepo.open(db, queue, id, opts.secretKey),
  ]);
  const responses = new PgResponsesStore(db, { log: opts.log });
  let feed: ChangeFeed | null = null;
  let pruneTimer: ReturnType<typeof setInterval> | null = null;
  let closing: Promise<void> | null = null;

  const sink = (rows: RequestLogEntry[]) => {
    const copy = rows.map(({ id: _id, ...r }) => ({ ...r, instanceId: id }));
    logQueue.push(`request log ${copy.length} rows`, async () => {
      for (let i = 0; i < copy.length; i += LOG_CHUNK) await storeRequestLog(db, copy.slice(i, i + LOG_CHUNK));
    });
  };

  async function attach(t: StoreTargets): Promise<void> {
    const apply = async (c: Change) => {
      if (c.table === "accounts") {
        // This instance's own write of the account is still queued: it lands after the other's
        // (last writer wins) and is announced in turn, so memory keeps this instance's decision.
        if (accounts.pending(c.id)) return;
        const row = await accounts.reread(c.id);
        if (row) t.accountChanged(row);
        else t.accountRemoved(c.id);
      } else if (c.table === "client_keys") {
        const totals = c.data?.totals as KeyTotals | undefined;
        if (totals) {
          if (keys.applyTotals(totals)) t.keyTotals([totals]);
          return;
        }
        await keys.reread(c.id);
        t.keysChanged();
      } else if (c.table === "settings") {
        await settings.reread(c.id);
        t.settingsChanged();
      } else if (c.table === "admin_sessions") {
        await sessions.reread(c.id);
      }
    };
    const reconcile = async () => {
      const { changed, removed } = diffVersions(accounts.versions, await rowVersions(sql, "accounts"));
      for (const aid of changed) if (!accounts.pending(aid)) await apply({ table: "accounts", id: aid, from: "" });
      for (const aid of removed) if (!accounts.pending(aid)) await apply({ table: "accounts", id: aid, from: "" });
      const mine = new Map([...settings.rows].map(([k, v]) => [k, v.updatedAt]));
      const s = diffVersions(mine, await rowVersions(sql, "settings"));
      let settingsChanged = false;
      for (const k of [...s.changed, ...s.removed]) {
        if (settings.pending(k)) continue;
        await settings.reread(k);
        settingsChanged = true;
      }
      if (settingsChanged) t.settingsChanged();
      if (await keys.reconcile()) t.keysChanged();
      await sessions.reconcile();
    };
    feed = new ChangeFeed(sql, {
      instanceId: id,
      onChange: apply,
      reconcile,
      reconcileMs: opts.reconcileMs ?? 1000,
      onError: (e) => opts.log?.warn("change feed: " + (e instanceof Error ? e.message : String(e))),
    });
    await feed.start();
    const prune = () =>
      void tryWithAdvisoryLock(sql, "prune request log", async () => {
        await db.delete(requestLog).where(lt(requestLog.at, Date.now() - t.logRetentionDays() * 86_400_000));
        await pruneRollups(db);
      }).catch((e) => opts.log?.warn("request-log pruning failed", { error: String(e) }));
    pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
    pruneTimer.unref?.();
  }

  return {
    engine: "postgres",
    description: `PostgreSQL at ${redactUrl(url)} (schema: ${total} migration(s), ${applied} applied now)`,
    accounts,
    keys,
    settings,
    sessions,
    responses,
    requestLogSink: sink,
    requestLogReads: { log: new PgRequestLogReader(db), rollups: new PgRollupReader(db, () => logQueue.flush()), flush: () => logQueue.flush() },
    attach,
    async health() {
      const t = performance.now();
      try {
        await Promise.race([sql`select 1`, Bun.sleep(2000).then(() => { throw new Error("no answer within 2 s"); })]);
        return { engine: "postgres", ok: true, latencyMs: round(performance.now() - t) };
      } catch (e) {
        return { engine: "postgres", ok: false, latencyMs: round(performance.now() - t), error: e instanceof Error ? e.message : String(e) };
      }
    },
    async flush() {
      await Promise.all([queue.flush(), logQueue.flush(), keys.flush(), responses.flush()]);
    },
    close() {
      closing ??= (async () => {
        if (pruneTimer) clearInterval(pruneTimer);
        await feed?.stop();
        await Promise.all([queue.flush(), logQueue.flush(), keys.flush(), responses.flush()]);
        await sql.close();
      })();
      return closing;
    },
  };
}
