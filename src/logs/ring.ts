import type { EventBus, LogEvent } from "./bus";

/** Keeps the last N log lines so the panel's live-log page opens with recent history. */
export class LogRing {
  private buf: LogEvent[] = [];
  constructor(bus: EventBus, private readonly size = 500) {
    bus.on((e) => {
      if (e.kind !== "log") return;
      this.buf.push(e);
      if (this.buf.length > this.size * 1.5) this.buf = this.buf.slice(-this.size);
    });
  }
  recent(n = this.size): LogEvent[] {
    return this.buf.slice(-Math.min(n, this.size));
  }
}
