import type { CanonicalEvent } from "../core/canonical";
import { isPollIterator } from "../core/poll";

/** What the dialect route supplies to turn relayed event batches into the dialect's SSE text. */
export type SseHooks = {
  /** Text written before the first batch (e.g. Anthropic's message_start). */
  start?(): string;
  /** SSE text for one relayed batch ("" = nothing to send). */
  frame(batch: CanonicalEvent[]): string;
  /** Text after the last batch (e.g. OpenAI's final chunks + [DONE]). */
  end?(): string;
  /** Text for a failure after the 200 ("" = send nothing, e.g. the client is gone). */
  fail(err: unknown): string;
  /** Always called once the body is finished (normally, by error or by cancel). */
  done?(): void;
  /** The client went away: abort the turn. */
  cancel(): void;
};

/**
 * The SSE body every dialect streams (src/http/dialect-route.ts): one write per upstream batch (everything one network chunk
 * of the upstream completed, so nothing waits for later bytes), `ping` after `pingMs` of silence
 * checked by one interval timer per stream, a mid-stream failure turned into the dialect's error
 * text, and the turn (with its upstream request) cancelled when the client goes away.
 *
 * A Bun "direct" stream: each batch's text is written straight into the HTTP response's buffer
 * (encoded to UTF-8 there) and flushed, instead of a TextEncoder copy per batch queued through a
 * default stream's controller and read back by the server's pipe. A write the socket cannot take
 * yet returns a promise, awaited before the next batch (backpressure), which also stops reading
 * the upstream while the client is slow. Measured in bench/stream.ts (burst, 400 frames):
 * see the README's benchmark table.
 * One interval per stream instead of a timer + Promise.race per frame: measured -5 % CPU per
 * request (in-process A/B, 400-frame answers).
 */
export function sseWriter(batches: AsyncIterable<CanonicalEvent[]>, pingMs: number, ping: string, h: SseHooks): ReadableStream<Uint8Array> {
  const it = batches[Symbol.asyncIterator]();
  const poll = isPollIterator(it) ? it : undefined;
  let lastWrite = Date.now();
  let closed = false;
  let started = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    h.cancel();
    void it.return?.(undefined);
  };
  return new ReadableStream({
    type: "direct",
    async pull(controller: ReadableStreamDirectController) {
      if (started) return;
      started = true;
      /** Writes and flushes; a promise when the client's socket is full. */
      const write = (str: string): number | Promise<number> | undefined => {
        if (!str || closed) return;
        lastWrite = Date.now();
        const n = controller.write(str);
        if (n === 0) {
          // The client went away.
          finish();
          return;
        }
        return typeof n === "number" ? controller.flush() : n;
      };
      timer = setInterval(() => {
        if (Date.now() - lastWrite >= pingMs) void write(ping);
      }, Math.max(10, Math.min(pingMs, 1000)));
      // The start text goes out with the first batch, in the response's first write (the one that
      // also sends the headers): one send and one wake-up of the client instead of two. Alone only
      // when no batch is ready yet, so the client never waits on the turn for it.
      let head = "";
      let wroteFirst = false;
      try {
        if (h.start) head = h.start();
        for (;;) {
          // A PollIterator (the turn's relay) is read synchronously while it has batches ready:
          // one await per network read (its ready()), not one per stage of the pipeline.
          let r = poll?.poll();
          if (r === undefined) {
            if (head) {
              await write(head);
              head = "";
            }
            if (poll) {
              await poll.ready();
              if (closed) break;
              continue;
            }
            r = await it.next();
          }
          if (r.done || closed) break;
          const text = h.frame(r.value);
          const w = write(head ? head + text : text);
          head = "";
          if (w !== undefined && typeof w !== "number") await w;
          // Bun sends what was written when pull() first yields: the headers and the first events
          // leave now, before the rest of the upstream's first read is decoded and encoded.
          else if (!wroteFirst) await null;
          wroteFirst = true;
        }
        if (!closed) await write(head + (h.end ? h.end() : ""));
      } catch (err) {
        if (!closed) await write(head + h.fail(err));
      } finally {
        clearInterval(timer);
        h.done?.();
        if (!closed) {
          closed = true;
          try {
            controller.close();
          } catch {
            // already closed by a cancel
          }
        }
      }
    },
    cancel() {
      if (started) return finish();
      // Cancelled before the body was ever read (Bun does this when the client left before the
      // response went out): the turn was never started, so its cleanup (lease, request log) would
      // never run. Abort it, then run it once so it ends through its own error path.
      started = true;
      closed = true;
      h.cancel();
      void it
        .next()
        .then(() => it.return?.(undefined))
        .catch(() => {})
        .finally(() => h.done?.());
    },
  } as unknown as UnderlyingDefaultSource<Uint8Array>);
}
