/**
 * The decoder's network reads, from either body kind: fetch's ReadableStream, or the socket
 * client's ChunkBody, which is polled (a read that is already queued costs no promise). Cancelled
 * when the decoder stops early (client abort) and, with `idleMs`, when nothing arrives for that long:
 * one timer per stream, re-armed lazily from the time of the last chunk, so the hot path only
 * stores a timestamp per read.
 */
import { KiroError } from "../errors";
import type { BodyRead } from "../chunk-body";
import { pollable, type PollIterator } from "../../core/poll";

/** An answer's body: fetch's stream, an iterable of byte chunks, or the socket client's reads (bytes with an end). */
export type UpstreamBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | BodyRead>;

/** One read: its bytes are `bytes[0, end)`. */
export type Chunk = { bytes: Uint8Array; end: number };

export type ChunkSource = {
  /** The next chunk; undefined: none yet (await `ready()`); null: the body ended. Throws the read's failure. */
  poll(): Chunk | undefined | null;
  ready(): Promise<void>;
  /** Stops the timer and, unless the body `finished`, cancels it. */
  close(finished: boolean): Promise<void>;
};

export function chunkSource(body: UpstreamBody, idleMs?: number): ChunkSource {
  let src: PollIterator<Uint8Array | BodyRead>;
  let cancel: () => Promise<unknown>;
  let release = () => {};
  if (body instanceof ReadableStream) {
    const r = body.getReader();
    src = pollable<Uint8Array>({ next: () => r.read() as Promise<IteratorResult<Uint8Array>> });
    cancel = () => r.cancel();
    release = () => r.releaseLock();
  } else {
    const it = body[Symbol.asyncIterator]();
    src = pollable(it);
    cancel = async () => it.return?.();
  }
  let last = Date.now();
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      const quiet = Date.now() - last;
      if (quiet < idleMs!) return arm(idleMs! - quiet);
      stalled = true;
      void cancel().catch(() => {});
    }, ms);
  };
  if (idleMs) arm(idleMs);
  const stalledError = () => {
    const quiet = idleMs! < 10_000 ? `${idleMs} ms` : `${Math.round(idleMs! / 1000)} s`;
    return new KiroError("transient", `upstream sent nothing for ${quiet}; gave up on the stream`, { reason: "TIMEOUT" });
  };
  return {
    poll() {
      let res: IteratorResult<Uint8Array | BodyRead> | undefined;
      try {
        res = src.poll();
      } catch (e) {
        if (stalled) throw stalledError();
        throw readError(e);
      }
      if (stalled) throw stalledError();
      if (res === undefined) return undefined;
      if (res.done) return null;
      if (idleMs) last = Date.now();
      const v = res.value;
      return v instanceof Uint8Array ? { bytes: v, end: v.length } : v;
    },
    ready: () => src.ready(),
    async close(finished) {
      clearTimeout(timer);
      if (!finished && !stalled) await cancel().catch(() => {});
      release();
    },
  };
}

function readError(e: unknown): unknown {
  // Our own abort must surface as-is (the caller knows why); anything else is a network failure.
  if (e instanceof KiroError || (e instanceof Error && e.name === "AbortError")) return e;
  return new KiroError("transient", `upstream stream read failed: ${(e as Error)?.message ?? e}`, { cause: e });
}
