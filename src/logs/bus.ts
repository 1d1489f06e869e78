/**
 * The one in-process event bus. The stdout logger, the panel's live log stream, the request-log
 * writer and the metrics all subscribe here; producers never know who listens.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogEvent = {
  kind: "log";
  at: number;
  level: LogLevel;
  msg: string;
  requestId?: string;
  fields?: Record<string, unknown>;
};

/** Domain events (account state changes, refreshes, selections, finished requests). */
export type DomainEvent = {
  kind: "account" | "refresh" | "selection" | "request" | "quota" | "import";
  at: number;
  requestId?: string;
  data: Record<string, unknown>;
};

export type BusEvent = LogEvent | DomainEvent;
export type Listener = (e: BusEvent) => void;

export class EventBus {
  private listeners = new Set<Listener>();

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: BusEvent): void {
    for (const fn of this.listeners) {
      // A broken subscriber must never break the request that logged.
      try { fn(e); } catch { /* ignored on purpose */ }
    }
  }
}
