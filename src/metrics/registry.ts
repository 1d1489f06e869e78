import type { EventBus } from "../logs/bus";

/**
 * In-process counters for GET /metrics (Prometheus text format 0.0.4), fed by the bus's
 * "request" events (one per finished turn). Label sets are bounded by what the server itself
 * names: dialects, accepted model names, status codes, account labels.
 */
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++;
  }
}

type RequestEventData = {
  dialect?: string;
  model?: string | null;
  status?: number;
  errorType?: string | null;
  latencyMs?: number | null;
  ttftMs?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  credits?: number | null;
  accountLabel?: string | null;
  stream?: boolean;
};

export class MetricsRegistry {
  readonly requests = new Map<string, number>(); // key: dialect|model|status
  readonly errors = new Map<string, number>(); // key: errorType
  readonly tokens = { input: 0, output: 0 };
  credits = 0;
  readonly duration = new Histogram(DURATION_BUCKETS);
  readonly ttft = new Histogram(TTFT_BUCKETS);

  constructor(bus: EventBus) {
    bus.on((e) => {
      if (e.kind === "request") this.onRequest(e.data as RequestEventData);
    });
  }

  private onRequest(d: RequestEventData): void {
    const key = `${d.dialect ?? ""}|${d.model ?? ""}|${d.status ?? 0}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (d.errorType) this.errors.set(d.errorType, (this.errors.get(d.errorType) ?? 0) + 1);
    this.tokens.input += d.inputTokens ?? 0;
    this.tokens.output += d.outputTokens ?? 0;
    this.credits += d.credits ?? 0;
    if (typeof d.latencyMs === "number") this.duration.observe(d.latencyMs / 1000);
    if (typeof d.ttftMs === "number" && (d.status ?? 0) < 400) this.ttft.observe(d.ttftMs / 1000);
  }
}

/** Prometheus label value escaping (backslash, quote, newline). */
export function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function histogramLines(name: string, h: Histogram): string[] {
  const out = h.buckets.map((b, i) => `${name}_bucket{le="${b}"} ${h.counts[i]}`);
  out.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
  return out;
}
