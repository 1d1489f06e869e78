/**
 * Picking an account for one request: conversation affinity, the strategy's O(log n) pick
 * (selection.ts), the model check, and the self-heal trial when every account left is
 * auto-disabled. Returns the record to lease, or why none can be picked.
 */
import { AUTO_DISABLED, type AccountTable, type Rec } from "./records";
import { unavailable, type Unpicked } from "./views";
import type { Pacer } from "./pacing";
import type { AcquireOptions } from "./types";

const AFFINITY_MAX = 50_000;
/** Picks that may land on an account lacking the requested model before one linear scan decides. */
const MODEL_PICK_TRIES = 6;

export type Picked = { rec: Rec; sticky: boolean; trial: boolean };

export class Picker {
  /** conversation id → account id, oldest first (bounded). */
  private readonly affinity = new Map<string, string>();

  constructor(private readonly table: AccountTable, private readonly pacer: Pacer) {}

  pick(opts: AcquireOptions, now: number): Picked | Unpicked {
    const t = this.table;
    if (t.size === 0) return { u: { unavailable: true, reason: "none_configured", message: "no Kiro accounts are configured; import one (kiro-server import --help)" }, atLimit: 0 };
    const strategy = t.strategy;
    if (strategy === "priority") t.ensurePriorityOrder();
    const model = opts.model;

    let rec: Rec | undefined;
    let sticky = false;
    let trial = false;
    if (opts.conversationId) {
      const id = this.affinity.get(opts.conversationId);
      const hit = id ? t.get(id) : undefined;
      if (hit && t.selector.weight(hit.slot) > 0 && !opts.exclude?.has(hit.row.id) && t.serves(hit, model)) {
        rec = hit;
        sticky = true;
      }
    }
    if (!rec) {
      let skip: number[] | undefined;
      if (opts.exclude?.size) {
        skip = [];
        for (const id of opts.exclude) {
          const r = t.get(id);
          if (r) skip.push(r.slot);
        }
      }
      // Model-aware: an account whose plan lacks the model is skipped like an excluded one. A few
      // re-picks keep this O(log n); only a pool dominated by such accounts pays one scan.
      for (let tries = 0; ; tries++) {
        const slot = t.selector.pick(strategy, skip);
        const r = t.atSlot(slot);
        if (!r || t.serves(r, model)) {
          rec = r;
          break;
        }
        (skip ??= []).push(slot);
        if (tries + 1 >= MODEL_PICK_TRIES) {
          rec = this.scanForModel(model!, new Set(skip));
          break;
        }
      }
      if (!rec) {
        rec = this.trialCandidate(opts.exclude, model);
        trial = !!rec;
      }
      if (!rec) return unavailable(t, this.pacer, now, opts.exclude, model);
    }
    if (opts.conversationId && !trial) {
      this.affinity.delete(opts.conversationId);
      this.affinity.set(opts.conversationId, rec.row.id);
      if (this.affinity.size > AFFINITY_MAX) this.affinity.delete(this.affinity.keys().next().value!);
    }
    return { rec, sticky, trial };
  }

  /** Fallback after MODEL_PICK_TRIES misses: the heaviest pickable account serving the model. O(n). */
  private scanForModel(model: string, skipSlots: Set<number>): Rec | undefined {
    let best: Rec | undefined;
    let bestW = 0;
    for (const r of this.table.values()) {
      const w = this.table.selector.weight(r.slot);
      if (w > bestW && !skipSlots.has(r.slot) && this.table.serves(r, model)) {
        best = r;
        bestW = w;
      }
    }
    return best;
  }

  /**
   * Self-heal: when nothing is pickable and every account left is auto-disabled (none cooling,
   * exhausted or merely busy), one request may try the auto-disabled account that failed least
   * recently — an outage that disabled the whole pool then ends with the first request that
   * works, instead of waiting for the next probe. One trial at a time per account. Only reached
   * when the pool is otherwise unavailable, so the O(n) scan is off the hot path.
   */
  private trialCandidate(exclude: Set<string> | undefined, model: string | undefined): Rec | undefined {
    let best: Rec | undefined;
    for (const r of this.table.values()) {
      if (exclude?.has(r.row.id)) continue;
      const st = r.row.state;
      if (st === "active" || st === "cooling" || st === "exhausted") return undefined;
      if (!r.row.stateReason?.startsWith(AUTO_DISABLED) || r.inflight > 0 || !this.table.serves(r, model)) continue;
      if (!best || (r.row.lastErrorAt ?? 0) < (best.row.lastErrorAt ?? 0)) best = r;
    }
    return best;
  }
}
