import { DONE, nextOf, type PollIterator } from "../core/poll";

/**
 * One network read of the body: its bytes are `bytes[0, end)`. A read is handed over as the
 * socket's own buffer with an end rather than a view of it (see BodyReader in ./http1.ts: the
 * first view of a fresh socket buffer costs more than everything else done with it).
 */
export type BodyRead = { bytes: Buffer; end: number };

/** The answer's body: network reads in order (polled: no promise per read while data is queued); `return()` drops the connection. */
export type ChunkBody = PollIterator<BodyRead> & {
  /** Bytes of the body received and not yet read (at most about `maxBufferedBytes` plus one network read). */
  readonly buffered: number;
};

/** What the connection (./stream-http.ts) fills for one answer's body as its reads arrive. */
export type BodyQueue = {
  queue: BodyRead[];
  /** Bytes in `queue`. */
  queued: number;
  ended: boolean;
  error?: unknown;
  /** Called by the connection after each read, end or failure: settles the reader's `waiting`. */
  wake?: () => void;
  /** The reader's `ready()` promise while it waits. */
  waiting?: Promise<void>;
};

/**
 * The reader's side of a BodyQueue. `caughtUp` is told when the reader took the queue (the
 * connection resumes reading if it paused); `cancel` ends the connection when the reader stops early.
 */
export function chunkBody(ex: BodyQueue, caughtUp: () => void, cancel: (err: Error) => void): ChunkBody {
  const it: ChunkBody = {
    poll(): IteratorResult<BodyRead> | undefined {
      const q = ex.queue;
      if (q.length) {
        ex.queue = [];
        caughtUp();
        return { done: false, value: q.length === 1 ? q[0]! : joinReads(q) };
      }
      if (ex.error !== undefined) throw ex.error;
      return ex.ended ? DONE : undefined;
    },
    ready(): Promise<void> {
      if (ex.queue.length || ex.ended) return Promise.resolve();
      return (ex.waiting ??= new Promise<void>((resolve) => {
        ex.wake = () => {
          ex.wake = ex.waiting = undefined;
          resolve();
        };
      }));
    },
    next: () => nextOf(it),
    async return(): Promise<IteratorResult<BodyRead>> {
      // The reader stopped early: the rest of the answer is not wanted, the connection goes.
      if (!ex.ended) cancel(Object.assign(new Error("body cancelled"), { name: "AbortError" }));
      ex.queue = [];
      ex.queued = 0;
      return DONE;
    },
    get buffered() {
      return ex.queued;
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/** Several queued reads as one (copied with Buffer#copy, which makes no view of them). */
function joinReads(q: BodyRead[]): BodyRead {
  let total = 0;
  for (const r of q) total += r.end;
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  for (const r of q) at += r.bytes.copy(bytes, at, 0, r.end);
  return { bytes, end: total };
}
