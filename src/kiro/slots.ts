/**
 * Upstream connection slots. Bun's fetch runs at most BUN_CONFIG_MAX_HTTP_REQUESTS requests at
 * once (default 256; a streaming response holds its slot until its body ends) and queues the rest
 * internally, where a request waits without a byte, a log line or an error. Every upstream call
 * goes through upstreamFetch (./http.ts), which takes one of these slots first; `max` is never
 * above Bun's own limit, so Bun itself never queues. Waiting here is visible: the first request
 * that waits logs (once per busy spell), the counters feed /metrics, and no request waits longer
 * than `queueTimeoutMs` (then UpstreamQueueTimeout, which the turn runner answers with a 503).
 */
import { KiroError } from "./errors";
import { bunFetchLimit } from "./fetch-limit";

export type SlotEvents = {
  /** The limit was reached and requests started to queue (once per busy spell). */
  busy?(info: { open: number; max: number }): void;
  /** The queue emptied again after a busy spell. */
  drained?(info: { waited: number; longestWaitMs: number; timedOut: number }): void;
};

export type SlotStats = {
  max: number;
  open: number;
  queued: number;
  /** Totals since start. */
  waitedTotal: number;
  timedOutTotal: number;
  /** Highest `open` seen. */
  peakOpen: number;
  longestWaitMs: number;
};

/** A queued request gave up: every upstream connection stayed busy for queueTimeoutMs. */
export class UpstreamQueueTimeout extends KiroError {
  constructor(waitedMs: number, max: number) {
    super("transient", `all ${max} upstream connections stayed busy for ${Math.round(waitedMs / 1000)} s (KIRO_MAX_UPSTREAM_REQUESTS); try again shortly`, {
      reason: "UPSTREAM_QUEUE_TIMEOUT",
    });
    this.name = "UpstreamQueueTimeout";
  }
}

type Waiter = { grant: (release: () => void) => void; fail: (err: unknown) => void; since: number };

export class UpstreamSlots {
  private open = 0;
  private readonly waiting: Waiter[] = [];
  private waitedTotal = 0;
  private timedOutTotal = 0;
  private peakOpen = 0;
  private longestWaitMs = 0;
  /** The current busy spell (for the drained log line). */
  private spell = { waited: 0, longestWaitMs: 0, timedOut: 0 };

  constructor(
    readonly max: number,
    readonly queueTimeoutMs: number,
    private readonly events: SlotEvents = {},
  ) {}

  /** A slot now (release function), or a promise of one; rejects on timeout or the caller's abort. */
  acquire(signal?: AbortSignal): (() => void) | Promise<() => void> {
    if (this.open < this.max && this.waiting.length === 0) return this.take();
    return this.enqueue(signal);
  }

  stats(): SlotStats {
    return {
      max: this.max,
      open: this.open,
      queued: this.waiting.length,
      waitedTotal: this.waitedTotal,
      timedOutTotal: this.timedOutTotal,
      peakOpen: this.peakOpen,
      longestWaitMs: this.longestWaitMs,
    };
  }

  private take(): () => void {
    this.open++;
    if (this.open > this.peakOpen) this.peakOpen = this.open;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      this.handOver();
    };
  }

  private handOver(): void {
    while (this.open < this.max && this.waiting.length > 0) {
      const w = this.waiting.shift()!;
      const waited = Date.now() - w.since;
      if (waited > this.longestWaitMs) this.longestWaitMs = waited;
      if (waited > this.spell.longestWaitMs) this.spell.longestWaitMs = waited;
      w.grant(this.take());
    }
    if (this.waiting.length === 0 && this.spell.waited > 0) {
      const s = this.spell;
      this.spell = { waited: 0, longestWaitMs: 0, timedOut: 0 };
      this.events.drained?.(s);
    }
  }

  private enqueue(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.spell.waited === 0) this.events.busy?.({ open: this.open, max: this.max });
    this.waitedTotal++;
    this.spell.waited++;
    return new Promise<() => void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = this.waiting.indexOf(w);
        if (i >= 0) this.waiting.splice(i, 1);
      };
      const w: Waiter = {
        since: Date.now(),
        grant: (release) => {
          cleanup();
          resolve(release);
        },
        fail: (err) => {
          cleanup();
          reject(err);
          // The queue may have emptied without a hand-over (everyone gave up).
          this.handOver();
        },
      };
      const onAbort = () => w.fail(signal!.reason);
      const timer = setTimeout(() => {
        this.timedOutTotal++;
        this.spell.timedOut++;
        w.fail(new UpstreamQueueTimeout(Date.now() - w.since, this.max));
      }, this.queueTimeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(w);
    });
  }
}

/**
 * The process's slots: `wanted` (KIRO_MAX_UPSTREAM_REQUESTS) capped at Bun's own fetch limit, with
 * the busy / drained log lines.
 */
export function upstreamSlotsFor(wanted: number, queueTimeoutMs: number, log: { warn(msg: string): void; info(msg: string): void }): UpstreamSlots {
  return new UpstreamSlots(Math.min(wanted, bunFetchLimit()), queueTimeoutMs, {
    busy: ({ open, max }) => log.warn(`all ${max} upstream connections are in use (${open} open): further upstream requests wait, up to ${queueTimeoutMs} ms (KIRO_MAX_UPSTREAM_REQUESTS, KIRO_UPSTREAM_QUEUE_MS)`),
    drained: ({ waited, longestWaitMs, timedOut }) => log.info(`upstream connection queue empty again: ${waited} request(s) waited, longest ${longestWaitMs} ms, ${timedOut} gave up`),
  });
}

/**
 * A body that gives its slot back when it ends, fails or is cancelled. Pull-based with no
 * buffer of its own (highWaterMark 0): one read of the source per read of the consumer.
 */
export function releasingBody(body: ReadableStream<Uint8Array>, release: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (err) {
          release();
          controller.error(err);
          return;
        }
        if (r.done) {
          release();
          controller.close();
        } else controller.enqueue(r.value);
      },
      async cancel(reason) {
        release();
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
