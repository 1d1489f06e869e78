/**
 * When a key with a monthly token budget is "near" it, on a store several instances share
 * (PostgreSQL). Far from the budget, admission reads this instance's memory and usage is written
 * in batches, as for every other key; near it, admission reads the cluster total from the database
 * and each finished request's usage is written at once, before the client receives the end of the
 * answer — so an admitted request has seen the usage of every request that finished before it,
 * on any instance, and the budget is overrun by at most the requests in flight.
 *
 * The rule: a key is near when the budget left, as this instance's memory counts it, is at most
 *
 *   margin = max(NEAR_FRACTION × budget,
 *                NEAR_REQUESTS × the key's recent largest request,
 *                NEAR_SECONDS × the key's pace in tokens per second)
 *
 * Memory counts this instance's usage at once and the others' when their totals arrive (a usage
 * write and a change notification later: milliseconds on a quiet database, up to about a hundred
 * under load; the reconcile every second at worst). The margin has to cover what the cluster used
 * that memory has not seen yet: the last term covers a key spending fast (what it would use in
 * the next two seconds at its present pace), the second one a burst of large requests, the first
 * one a key this instance has seen nothing of yet.
 * "Recent largest request": the largest request this instance counted (its own, or the average
 * of a batch another instance announced), decaying by PEAK_DECAY with each later one.
 * "Pace": the tokens memory counted within the last second (the current one-second window plus
 * the previous window's, weighted by how much of it still lies within the last second), divided
 * by that second — or by the time since memory first counted the key, when that is shorter (at
 * least MIN_PACE_MS), so that a key starting with a burst is near early.
 */
export const NEAR_FRACTION = 0.1;
export const NEAR_REQUESTS = 32;
export const NEAR_SECONDS = 2;
export const PEAK_DECAY = 0.98;
const WINDOW_MS = 1000;
const MIN_PACE_MS = 100;

type Track = { peak: number; first: number; since: number; current: number; previous: number };

/** Per key: its recent largest request and pace, and the rule above. */
export class NearBudget {
  private readonly tracks = new Map<string, Track>();

  /** Tokens memory counted for the key: `requests` requests (≥ 1) of `tokens` tokens together. */
  count(id: string, tokens: number, requests: number, now: number): void {
    if (tokens <= 0) return;
    let t = this.tracks.get(id);
    if (!t) this.tracks.set(id, (t = { peak: 0, first: now, since: now, current: 0, previous: 0 }));
    roll(t, now);
    t.current += tokens;
    t.peak = Math.max(tokens / Math.max(1, requests), t.peak * PEAK_DECAY);
  }

  /** The budget left at or below which the key is near it. */
  margin(id: string, budget: number, now: number): number {
    const t = this.tracks.get(id);
    if (!t) return NEAR_FRACTION * budget;
    roll(t, now);
    const lastSecond = t.current + t.previous * Math.max(0, 1 - (now - t.since) / WINDOW_MS);
    const perSecond = lastSecond / (Math.min(WINDOW_MS, Math.max(MIN_PACE_MS, now - t.first)) / 1000);
    return Math.max(NEAR_FRACTION * budget, NEAR_REQUESTS * t.peak, NEAR_SECONDS * perSecond);
  }

  isNear(id: string, budget: number, used: number, now: number): boolean {
    return budget - used <= this.margin(id, budget, now);
  }
}

/** Moves the one-second windows on to the one `now` falls in. */
function roll(t: Track, now: number): void {
  const passed = Math.floor((now - t.since) / WINDOW_MS);
  if (passed < 1) return;
  t.previous = passed === 1 ? t.current : 0;
  t.current = 0;
  t.since += passed * WINDOW_MS;
}
