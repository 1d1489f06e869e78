/**
 * Selection strategies over the set of pickable accounts, O(log n) per pick whatever the pool
 * size. The pool keeps this structure up to date incrementally (an account's weight changes when
 * it is leased, released, cooled, exhausted, disabled or gets a new quota), so a pick never scans
 * the accounts:
 *   balanced     weighted random (Fenwick tree over weights = remaining credits / (1 + load));
 *   round-robin  a dense list of pickable slots and a moving cursor;
 *   priority     a Fenwick tree of 0/1 over the priority order → first pickable in O(log n),
 *                sticky on the current account until it stops being pickable.
 */

/** Fenwick (binary indexed) tree of non-negative weights with prefix search. */
export class Fenwick {
  private tree: Float64Array;
  private raw: Float64Array;
  private updates = 0;
  constructor(capacity = 16) {
    this.tree = new Float64Array(capacity + 1);
    this.raw = new Float64Array(capacity);
  }
  get capacity(): number {
    return this.raw.length;
  }
  get(i: number): number {
    return this.raw[i] ?? 0;
  }
  grow(capacity: number): void {
    if (capacity <= this.raw.length) return;
    const raw = new Float64Array(capacity);
    raw.set(this.raw);
    this.raw = raw;
    this.rebuild();
  }
  set(i: number, w: number): void {
    const d = w - this.raw[i]!;
    if (d === 0) return;
    this.raw[i] = w;
    // Repeated float additions drift; rebuilding now and then keeps totals exact enough.
    if (++this.updates > 1 << 20) return this.rebuild();
    const n = this.raw.length;
    for (let k = i + 1; k <= n; k += k & -k) this.tree[k]! += d;
  }
  total(): number {
    let s = 0;
    for (let k = this.raw.length; k > 0; k -= k & -k) s += this.tree[k]!;
    return s;
  }
  /** Smallest index whose prefix sum exceeds r (0 ≤ r < total), or -1. */
  find(r: number): number {
    const n = this.raw.length;
    let pos = 0;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && this.tree[next]! <= r) {
        pos = next;
        r -= this.tree[next]!;
      }
    }
    if (pos >= n) return -1;
    // Float residue can land on a zero-weight slot: move to the nearest weighted one.
    if (this.raw[pos]! > 0) return pos;
    for (let i = pos - 1; i >= 0; i--) if (this.raw[i]! > 0) return i;
    for (let i = pos + 1; i < n; i++) if (this.raw[i]! > 0) return i;
    return -1;
  }
  rebuild(): void {
    this.updates = 0;
    const n = this.raw.length;
    this.tree = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.tree[i + 1]! += this.raw[i]!;
      const parent = i + 1 + ((i + 1) & -(i + 1));
      if (parent <= n) this.tree[parent]! += this.tree[i + 1]!;
    }
  }
}

export type Strategy = "balanced" | "round-robin" | "priority";

/**
 * Pickable slots with their balanced weight. Slots are small integers the pool assigns to
 * accounts; a slot with weight 0 is not pickable.
 */
export class Selector {
  private weights = new Fenwick(16);
  private listed: number[] = [];
  private posInList = new Int32Array(16).fill(-1);
  private cursor = 0;
  /** Priority order: rank → slot, slot → rank, and a 0/1 tree over ranks. */
  private rankOf = new Int32Array(16).fill(-1);
  private slotAt: number[] = [];
  private byRank = new Fenwick(16);
  private sticky = -1;

  constructor(private readonly random: () => number = Math.random) {}

  ensureCapacity(n: number): void {
    if (n <= this.weights.capacity) return;
    let cap = this.weights.capacity;
    while (cap < n) cap *= 2;
    this.weights.grow(cap);
    this.byRank.grow(cap);
    const pos = new Int32Array(cap).fill(-1);
    pos.set(this.posInList);
    this.posInList = pos;
    const rank = new Int32Array(cap).fill(-1);
    rank.set(this.rankOf);
    this.rankOf = rank;
  }

  /** Sets a slot's weight; 0 removes it from every strategy's candidates. */
  set(slot: number, weight: number): void {
    this.ensureCapacity(slot + 1);
    const w = weight > 0 && Number.isFinite(weight) ? weight : 0;
    this.weights.set(slot, w);
    const pos = this.posInList[slot]!;
    if (w > 0 && pos < 0) {
      this.posInList[slot] = this.listed.length;
      this.listed.push(slot);
    } else if (w === 0 && pos >= 0) {
      const last = this.listed.pop()!;
      if (last !== slot) {
        this.listed[pos] = last;
        this.posInList[last] = pos;
      }
      this.posInList[slot] = -1;
    }
    const r = this.rankOf[slot]!;
    if (r >= 0) this.byRank.set(r, w > 0 ? 1 : 0);
  }

  weight(slot: number): number {
    return this.weights.get(slot);
  }

  get pickableCount(): number {
    return this.listed.length;
  }

  /** The priority order (slots, most preferred first). O(n); called on inserts/priority edits only. */
  setPriorityOrder(slots: number[]): void {
    this.ensureCapacity(slots.length + 1);
    this.rankOf.fill(-1);
    this.slotAt = slots.slice();
    this.byRank = new Fenwick(this.weights.capacity);
    slots.forEach((slot, rank) => {
      this.rankOf[slot] = rank;
      if (this.weights.get(slot) > 0) this.byRank.set(rank, 1);
    });
  }

  /** One pick, or -1 when nothing is pickable. `skip` slots are treated as weight 0. */
  pick(strategy: Strategy, skip?: Iterable<number>): number {
    if (!skip) return this.pickOnce(strategy);
    // Temporarily hide skipped slots (few: the accounts this request already tried). Skipping is
    // per request: it must not move the priority strategy's sticky account.
    const saved = this.sticky;
    const hidden: Array<[number, number]> = [];
    for (const s of skip) {
      const w = this.weights.get(s);
      if (w > 0) {
        hidden.push([s, w]);
        this.set(s, 0);
      }
    }
    try {
      return this.pickOnce(strategy);
    } finally {
      for (const [s, w] of hidden) this.set(s, w);
      if (saved >= 0 && this.weights.get(saved) > 0) this.sticky = saved;
    }
  }

  private pickOnce(strategy: Strategy): number {
    if (this.listed.length === 0) return -1;
    if (strategy === "round-robin") {
      if (this.cursor >= this.listed.length) this.cursor = 0;
      return this.listed[this.cursor++]!;
    }
    if (strategy === "priority") {
      if (this.sticky >= 0 && this.weights.get(this.sticky) > 0) return this.sticky;
      const rank = this.byRank.find(0);
      const slot = rank >= 0 ? this.slotAt[rank] : undefined;
      // Slots not yet ranked (just inserted before the order was rebuilt) fall back to the list.
      this.sticky = slot ?? this.listed[0]!;
      return this.sticky;
    }
    const total = this.weights.total();
    if (!(total > 0)) return this.listed[0]!;
    return this.weights.find(this.random() * total);
  }
}
