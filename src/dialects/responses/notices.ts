/**
 * Server-log notices that a client repeats on every turn (Codex declares its hosted `web_search`
 * tool and replays its `reasoning` items each time): the first occurrence of each type is logged
 * at info, later ones at debug, so the log says it once without hiding it.
 */
export type NoticeLog = {
  debug(msg: string): void;
  info(msg: string): void;
};

/** Distinct (notice, type) pairs remembered; beyond this everything is logged at debug. */
const MAX_REMEMBERED = 256;

export class FirstTimeNotices {
  private readonly seen = new Set<string>();

  constructor(private readonly log: NoticeLog) {}

  /** `what` names the notice (e.g. "hosted tools dropped"); `types` are the tool or item types. */
  report(what: string, types: readonly string[]): void {
    const unique = [...new Set(types)];
    if (!unique.length) return;
    let fresh = false;
    for (const t of unique) {
      const key = `${what}\u0000${t}`;
      if (this.seen.has(key) || this.seen.size >= MAX_REMEMBERED) continue;
      this.seen.add(key);
      fresh = true;
    }
    const line = `responses: ${what}: ${unique.join(", ")}`;
    if (fresh) this.log.info(`${line} (logged at info once per type; later requests at debug)`);
    else this.log.debug(line);
  }
}
