/**
 * The store boundary: what the request path, the pool and the panel ask of the database, the same
 * on either engine. The shape follows one rule — the request path never waits on the database:
 *  - reads that the request path needs (accounts, keys, settings) come from memory; the repository
 *    loads them once at start (PostgreSQL keeps them current from the change feed);
 *  - writes return at once: SQLite writes synchronously (one short local transaction), PostgreSQL
 *    queues the write and sends it in order in the background (`flush()` awaits the queue);
 *  - counters are sent as deltas on PostgreSQL (several instances add to them).
 * SQLite implementations: src/pool/store.ts, src/keys/client-keys.ts, src/db/settings-store.ts,
 * src/db/sqlite-store.ts. PostgreSQL ones: src/db/pg/repos/.
 */
import type { ResponsesRepo } from "./responses-store";
import type { accounts, clientKeys, requestLog } from "./schema";
import type { RequestLogReader, RollupReader } from "../logs/request-reads";

export type AccountRow = typeof accounts.$inferSelect;
export type AccountPatch = Partial<Omit<AccountRow, "id" | "createdAt">>;
export type AccountCounters = Pick<AccountRow, "id" | "requests" | "errors" | "consecutiveFailures" | "lastUsedAt" | "quotaJson" | "quotaFetchedAt">;

/** Refresh with the stored refresh token, once across every instance (PostgreSQL: PgTokenStore). */
export type RefreshCoordinator = {
  /**
   * Runs `refresh` with the account's stored refresh token under the account's cluster lock and
   * stores the result with compare-and-swap before returning it; when another instance already
   * refreshed (the stored access token is fresh and is not `knownAccessToken`), adopts its tokens.
   */
  refreshOnce<R extends { accessToken: string; refreshToken?: string; expiresAt: number }>(
    accountId: string,
    refresh: (refreshToken: string) => Promise<R>,
    knownAccessToken?: string,
  ): Promise<{
    outcome: "refreshed" | "adopted";
    accessToken: string;
    refreshToken: string;
    expiresAt: number;
    /** The token columns as stored now (ciphertext), for the instance's memory. */
    stored: Pick<AccountRow, "refreshTokenEnc" | "accessTokenEnc" | "accessExpiresAt" | "fingerprint" | "updatedAt">;
  }>;
};

export interface AccountRepo {
  loadAll(): AccountRow[];
  /** fingerprint → account id, for every fingerprint an account ever had. */
  loadFingerprints(): Map<string, string>;
  insert(row: AccountRow): void;
  update(id: string, patch: AccountPatch): void;
  /** A new refresh token with its access token; the old fingerprint stays an alias of the account. */
  replaceToken(id: string, patch: AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFingerprint: string, now: number): void;
  addAlias(fingerprint: string, accountId: string, now: number): void;
  remove(id: string): void;
  /** Batched counters: absolute in-memory values (PostgreSQL turns them into deltas). */
  writeCounters(rows: AccountCounters[]): void;
  /** Present when refreshes must be coordinated with other instances (PostgreSQL). */
  readonly refreshes?: RefreshCoordinator;
}

export type ClientKey = typeof clientKeys.$inferSelect;
/** Usage counted in memory since the last flush, per key. */
export type KeyUsage = { key: ClientKey; tokens: number; requests: number; month: string; lastUsedAt: number };
/** A key's counters as the whole cluster has them (PostgreSQL's answer to a usage flush). */
export type KeyTotals = { id: string; tokensThisMonth: number; budgetMonth: string | null; requests: number };

export interface KeyRepo {
  /** Every key, revoked ones included. */
  all(): ClientKey[];
  get(id: string): ClientKey | undefined;
  insert(row: typeof clientKeys.$inferInsert): void;
  update(id: string, patch: Partial<ClientKey>): void;
  /**
   * Writes usage. SQLite: the keys' absolute counters, synchronously. PostgreSQL: the deltas,
   * answered with the cluster totals (in the background).
   */
  writeUsage(rows: KeyUsage[]): void | Promise<KeyTotals[]>;
  /**
   * How long usage is gathered before it is written (default 200 ms; PostgreSQL 100 ms: the
   * other instances learn the totals sooner, and keys near their budget are written through).
   */
  readonly flushDelayMs?: number;
  /**
   * Present where several instances share the keys (PostgreSQL): the key's counters and budget as
   * the database has them now, read with one statement, for the admission of a key near its
   * budget (src/keys/near-budget.ts). Null when the database did not answer in time (the
   * repository logs it) or the key is gone.
   */
  clusterUsage?(id: string): Promise<(KeyTotals & { monthlyTokenBudget: number | null }) | null>;
  /**
   * Present with `clusterUsage`: adds one finished request's usage at once (an atomic delta, not
   * the batch) and answers with the cluster totals. Null when the write failed (it is then queued
   * with the batched usage and retried) or did not finish in time (it goes on in the background).
   */
  addUsageNow?(usage: KeyUsage): Promise<KeyTotals | null>;
}

export interface SettingsRepo {
  get(key: string): string | undefined;
  put(key: string, value: string, updatedAt: number): void;
  /** Stores `value` unless the key exists; the stored value either way (another instance may have won). */
  putIfAbsent(key: string, value: string, updatedAt: number): Promise<string>;
}

export type RequestLogEntry = typeof requestLog.$inferInsert;

/** Sessions of the admin panel shared by every instance (PostgreSQL only; SQLite keeps them in memory). */
export type StoredSession = { id: string; csrf: string; createdAt: number; lastSeen: number };
export interface SessionRepo {
  /** Key of the cookie signature, the same on every instance. */
  readonly signingKey: Uint8Array;
  get(id: string): StoredSession | undefined;
  save(s: StoredSession): void;
  touch(id: string, lastSeen: number): void;
  remove(id: string): void;
}

export type DatabaseHealth = { engine: "sqlite" | "postgres"; ok: boolean; latencyMs: number; error?: string };

/** Where changes made by other instances are applied (the services built at boot). */
export type StoreTargets = {
  /** An account row was added or changed elsewhere (the repository holds the new row already). */
  accountChanged(row: AccountRow): void;
  accountRemoved(id: string): void;
  /** Keys changed elsewhere: rebuild the in-memory map from the repository. */
  keysChanged(): void;
  /** Usage totals of keys as the cluster counts them (announced by the instance that added to them). */
  keyTotals(totals: KeyTotals[]): void;
  /** The runtime settings changed elsewhere. */
  settingsChanged(): void;
  /** Request-log retention (days), for the cluster-wide pruning. */
  logRetentionDays(): number;
};

/** One engine's repositories, built at boot (src/db/open-store.ts). */
export type Store = {
  engine: "sqlite" | "postgres";
  /** For the start-up log line: which database, where (no password). */
  description: string;
  accounts: AccountRepo;
  keys: KeyRepo;
  settings: SettingsRepo;
  /** Extra destination of request-log batches (PostgreSQL: the shared table, with the instance id). */
  requestLogSink?: (rows: RequestLogEntry[]) => void;
  sessions?: SessionRepo;
  /** Stored OpenAI Responses shared by every instance (PostgreSQL); SQLite's live in the local database. */
  responses?: ResponsesRepo;
  /**
   * The panel's reads of the cluster's request log and usage aggregates (PostgreSQL; without it
   * the panel reads this process's SQLite). `flush` waits until this instance's rows are stored.
   */
  requestLogReads?: { log: RequestLogReader; rollups: RollupReader; flush(): Promise<void> };
  /** Starts keeping memory in step with the other instances (PostgreSQL: the change feed). */
  attach?(targets: StoreTargets): Promise<void>;
  health(): Promise<DatabaseHealth>;
  /** Waits until every queued write is stored. */
  flush(): Promise<void>;
  close(): Promise<void>;
};
