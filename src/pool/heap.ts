/** Min-heap of (time, id): which cooling/exhausted account recovers next, in O(log n). */
export class TimeHeap {
  private times: number[] = [];
  private ids: string[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number | undefined {
    return this.times[0];
  }

  push(time: number, id: string): void {
    const t = this.times;
    const d = this.ids;
    let i = t.length;
    t.push(time);
    d.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!;
      d[i] = d[p]!;
      i = p;
    }
    t[i] = time;
    d[i] = id;
  }

  pop(): { time: number; id: string } | undefined {
    const t = this.times;
    const d = this.ids;
    if (!t.length) return undefined;
    const top = { time: t[0]!, id: d[0]! };
    const lastT = t.pop()!;
    const lastD = d.pop()!;
    if (t.length) {
      let i = 0;
      const n = t.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && t[l + 1]! < t[l]! ? l + 1 : l;
        if (t[c]! >= lastT) break;
        t[i] = t[c]!;
        d[i] = d[c]!;
        i = c;
      }
      t[i] = lastT;
      d[i] = lastD;
    }
    return top;
  }
}
