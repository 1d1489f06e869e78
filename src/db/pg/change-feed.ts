import type { SQL } from "bun";

/** Shared state that changed: which table, which row (primary key), and which instance wrote it. */
export type Change = { table: string; id: string; from: string; /** The changed values, when they are small enough to send along (saves a read). */ data?: Record<string, unknown> };

export const CHANGE_CHANNEL = "kiro_changes";

/**
 * Announces a change to the other instances. Inside a transaction the notification is delivered
 * when it commits and dropped when it rolls back, so call it with the transaction's `sql`.
 */
export async function announce(sql: SQL, change: Change): Promise<void> {
  await sql.unsafe("select pg_notify($1, $2)", [CHANGE_CHANNEL, JSON.stringify(change)]);
}

export type ChangeFeedOptions = {
  /** This instance: its own announcements are not delivered back to it. */
  instanceId: string;
  /** Another instance changed a row: re-read that row into memory. */
  onChange: (change: Change) => void | Promise<void>;
  /** Compare everything in memory with the database and repair what differs (see diffVersions). */
  reconcile: () => void | Promise<void>;
  /** Reconcile period; together with notifications this bounds how stale memory can be. Default 1000 ms. */
  reconcileMs?: number;
  onError?: (e: unknown) => void;
};

/**
 * Keeps one instance's memory in step with the others: LISTEN for announced changes (fast path),
 * plus a periodic reconcile that repairs anything missed — a notification lost while the listening
 * connection was down, a write by a tool that did not announce. The reconcile also runs every
 * time the LISTEN is (re-)established, since notifications sent meanwhile are gone.
 */
export class ChangeFeed {
  private timer: ReturnType<typeof setInterval> | null = null;
  private sub: { unlisten(): Promise<void> } | null = null;
  private reconciling: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly sql: SQL, private readonly opts: ChangeFeedOptions) {}

  async start(): Promise<void> {
    this.sub = await this.sql.listen(CHANGE_CHANNEL, (payload) => this.deliver(payload), () => void this.reconcileNow());
    this.timer = setInterval(() => void this.reconcileNow(), this.opts.reconcileMs ?? 1000);
    this.timer.unref?.();
  }

  /** One reconcile at a time; a call while one runs waits for that one. */
  reconcileNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.reconciling ??= (async () => {
      try {
        await this.opts.reconcile();
      } catch (e) {
        this.opts.onError?.(e);
      } finally {
        this.reconciling = null;
      }
    })();
    return this.reconciling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sub?.unlisten().catch(() => {});
    this.sub = null;
    await this.reconciling;
  }

  private deliver(payload: string): void {
    let change: Change;
    try {
      change = JSON.parse(payload) as Change;
    } catch {
      return; // not ours
    }
    if (typeof change?.table !== "string" || typeof change.id !== "string" || change.from === this.opts.instanceId) return;
    Promise.resolve()
      .then(() => this.opts.onChange(change))
      .catch((e) => this.opts.onError?.(e));
  }
}

/**
 * What a reconcile must re-read: rows whose version (updated_at from the database clock) differs
 * from the one in memory or that memory lacks, and rows memory has that the database no longer has.
 */
export function diffVersions(inMemory: ReadonlyMap<string, number>, inDb: ReadonlyMap<string, number>): { changed: string[]; removed: string[] } {
  const changed: string[] = [];
  for (const [id, v] of inDb) if (inMemory.get(id) !== v) changed.push(id);
  const removed = [...inMemory.keys()].filter((id) => !inDb.has(id));
  return { changed, removed };
}

/** `updated_at` of every row of a table with (id, updated_at): the reconcile's one small query. */
export async function rowVersions(sql: SQL, table: "accounts" | "settings"): Promise<Map<string, number>> {
  const key = table === "settings" ? "key" : "id";
  const rows: Array<{ id: string; v: string | number }> = await sql.unsafe(`select "${key}" as id, updated_at as v from "${table}"`);
  return new Map(rows.map((r) => [r.id, Number(r.v)]));
}
