/**
 * Poll iterators: async iterators that can also be read without awaiting.
 *
 * A streamed answer passes through several stages (network reads → frames → canonical events →
 * stop guard → the client's SSE text). Chained as async iterators, every network read costs a
 * promise and a resumed async function per stage, and a paced upstream sends one frame per read,
 * so that cost is paid per frame. A PollIterator lets the last stage pull synchronously through
 * all the others: `poll()` returns the next result when it is ready, or undefined when nothing is,
 * and only then does the reader await `ready()` (the one promise per read, made by the stage that
 * waits for the network). `next()` still works, for readers that do not poll.
 */
export interface PollIterator<T> extends AsyncIterableIterator<T> {
  /** The next result if it is ready now; undefined when the caller must await `ready()` first. Throws what `next()` would reject with. */
  poll(): IteratorResult<T> | undefined;
  /** Settles once `poll()` may have something new (never rejects: the failure comes from `poll()`). */
  ready(): Promise<void>;
}

export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** `next()` in terms of `poll()` and `ready()`. */
export async function nextOf<T>(p: Pick<PollIterator<T>, "poll" | "ready">): Promise<IteratorResult<T>> {
  for (;;) {
    const r = p.poll();
    if (r !== undefined) return r;
    await p.ready();
  }
}

/** One item at a time from batches of items (readers that take events one by one: non-stream routes, tests); lazy: nothing is read before the first `next()`. */
export async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const b of batches) yield* b;
}

export function isPollIterator<T>(it: AsyncIterator<T>): it is PollIterator<T> {
  return typeof (it as Partial<PollIterator<T>>).poll === "function";
}

/**
 * Any async iterator as a PollIterator: `ready()` starts one `next()` (if none is under way) and
 * `poll()` hands over its result. A PollIterator is returned as it is.
 */
export function pollable<T>(it: AsyncIterator<T>): PollIterator<T> {
  if (isPollIterator(it)) return it;
  let got: IteratorResult<T> | undefined;
  let failed = false;
  let error: unknown;
  let ended = false;
  let reading: Promise<void> | undefined;
  const p: PollIterator<T> = {
    poll() {
      if (failed) {
        failed = false;
        ended = true;
        throw error;
      }
      if (got !== undefined) {
        const g = got;
        got = undefined;
        if (g.done) ended = true;
        return g;
      }
      return ended ? DONE : undefined;
    },
    ready() {
      if (got !== undefined || failed || ended) return Promise.resolve();
      return (reading ??= it.next().then(
        (r) => {
          reading = undefined;
          // A read that settles after return() is not handed out.
          if (!ended) got = r;
        },
        (e: unknown) => {
          reading = undefined;
          if (ended) return;
          failed = true;
          error = e;
        },
      ));
    },
    next: () => nextOf(p),
    async return(value?: unknown) {
      ended = true;
      got = undefined;
      await it.return?.(value);
      return DONE;
    },
    [Symbol.asyncIterator]: () => p,
  };
  return p;
}
