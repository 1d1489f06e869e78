/**
 * Follows the Kiro IDE's token file (~/.aws/sso/cache/kiro-auth-token.json). The IDE rotates its refresh token
 * when it refreshes; when it does, our copy of the old token may already be dead, so a changed
 * file is adopted within seconds for the account imported from that file. Polling stat() once a
 * second is cheap and survives editors/IDEs that replace the file by rename (fs.watch loses those).
 * With no account taken from an IDE file, the poll only looks for one every `idlePollMs` (30 s):
 * a server that follows no file runs nothing every second.
 */
import { statSync } from "node:fs";
import type { AccountPool } from "./pool";
import { parseKiroIdeCache } from "./import/kiro-ide";

export type IdeSyncOptions = {
  /** Poll interval while some account was imported from an IDE file (ms). */
  pollMs?: number;
  /** Interval while none was: how soon a new import starts being followed (ms). */
  idlePollMs?: number;
};
const RETRY_MS = 30_000;

export class IdeSync {
  private timer?: ReturnType<typeof setTimeout>;
  private running = false;
  private readonly seen = new Map<string, string>();
  private readonly retryAt = new Map<string, number>();
  private busy = false;
  /** Whether the last look found an account taken from an IDE file (the next poll comes soon). */
  private following = false;

  constructor(private readonly pool: AccountPool, private readonly log: { info: (m: string, f?: Record<string, unknown>) => void; warn: (m: string, f?: Record<string, unknown>) => void }, private readonly opts: IdeSyncOptions = {}) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const paths = this.paths();
    for (const path of paths) this.seen.set(path, this.stamp(path));
    this.following = paths.size > 0;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The next poll: soon while a file is followed, rarely while none is. */
  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.check().finally(() => this.schedule());
      },
      this.following ? (this.opts.pollMs ?? 1000) : (this.opts.idlePollMs ?? 30_000),
    );
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Paths of the IDE files accounts were imported from (new imports are picked up on the next poll). */
  private paths(): Set<string> {
    const out = new Set<string>();
    for (const a of this.pool.importedFrom("kiro-ide")) if (a.sourcePath) out.add(a.sourcePath);
    return out;
  }

  private stamp(path: string): string {
    try {
      const st = statSync(path);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return "missing";
    }
  }

  /** One poll; returns how many accounts adopted a new token or were added for a new IDE login. */
  async check(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let adopted = 0;
    try {
      const paths = this.paths();
      this.following = paths.size > 0;
      for (const path of paths) {
        const stamp = this.stamp(path);
        const retry = this.retryAt.get(path);
        if (retry !== undefined && retry <= Date.now()) {
          this.retryAt.delete(path);
          this.seen.delete(path);
        }
        if (this.seen.get(path) === stamp) continue;
        this.seen.set(path, stamp);
        if (stamp === "missing") continue;
        const [entry] = parseKiroIdeCache(path);
        const input = entry?.input;
        if (!input) continue;
        // The account most recently taken from this file, same kind: the IDE's current login.
        let target: { id: string; at: number } | undefined;
        for (const a of this.pool.importedFrom("kiro-ide")) {
          if (a.sourcePath !== path || a.kind !== input.kind) continue;
          if (!target || a.updatedAt > target.at) target = { id: a.id, at: a.updatedAt };
        }
        if (!target) continue;
        // The pool checks who the new login is: the same person → adopt, someone else → new account.
        const outcome = await this.pool.adoptRotatedToken(target.id, input);
        if (outcome === "adopted" || outcome === "added") adopted++;
        // Could not tell yet (network): look again in RETRY_MS, not on every poll.
        else if (outcome === "retry") this.retryAt.set(path, Date.now() + RETRY_MS);
      }
    } catch (err) {
      this.log.warn(`Kiro IDE token sync failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.busy = false;
    }
    return adopted;
  }
}
