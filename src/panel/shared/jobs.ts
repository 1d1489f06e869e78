/**
 * Long panel operations (import of many accounts, refresh all, check all quotas) run as jobs the
 * page polls, so one slow account never holds the HTTP request open.
 */
import type { MessageKey, Params } from "./i18n";

export type JobOutcome = "added" | "updated" | "skipped" | "failed" | "ok";
export type JobRow = { name: string; outcome: JobOutcome; why?: string; ok: boolean };
/**
 * The title is a catalogue message, so each viewer reads it in their own language; `paramKeys`
 * are parameters that are themselves catalogue messages (e.g. the name of an import format).
 */
export type JobTitle = { key: MessageKey; params?: Params; paramKeys?: Record<string, MessageKey> };
export type Job = { id: string; title: JobTitle; total: number; rows: JobRow[]; done: boolean; startedAt: number };

export class Jobs {
  private jobs = new Map<string, Job>();

  /** Runs `work` over items with limited concurrency; each item yields one report row. */
  start<T>(title: JobTitle, items: T[], work: (item: T) => Promise<JobRow>, concurrency = 4): Job {
    const job: Job = { id: crypto.randomUUID(), title, total: items.length, rows: [], done: items.length === 0, startedAt: Date.now() };
    this.jobs.set(job.id, job);
    this.trim();
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++]!;
        try {
          job.rows.push(await work(item));
        } catch (e) {
          job.rows.push({ name: "?", outcome: "failed", why: e instanceof Error ? e.message : String(e), ok: false });
        }
      }
    };
    void Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker)).then(() => { job.done = true; });
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Resolves when the job finished or after `ms`, whichever is first (small jobs answer at once). */
  async settle(job: Job, ms: number): Promise<Job> {
    const until = Date.now() + ms;
    while (!job.done && Date.now() < until) await Bun.sleep(25);
    return job;
  }

  private trim(): void {
    if (this.jobs.size <= 50) return;
    const oldest = [...this.jobs.values()].filter((j) => j.done).sort((a, b) => a.startedAt - b.startedAt);
    for (const j of oldest.slice(0, this.jobs.size - 50)) this.jobs.delete(j.id);
  }
}
