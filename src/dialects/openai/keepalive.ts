/**
 * Interleaves keep-alive ticks into an async iterable: when the source is silent for `ms`, yields
 * PING (the route turns it into an SSE comment line, which every OpenAI client ignores) while the
 * pending read stays pending. Long reasoning pauses otherwise trip idle watchdogs and proxies.
 */
export const PING = Symbol("ping");

export async function* withKeepAlive<T>(source: AsyncIterable<T>, ms: number): AsyncGenerator<T | typeof PING> {
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    while (true) {
      pending ??= it.next();
      const tick = new Promise<typeof PING>((resolve) => { timer = setTimeout(() => resolve(PING), ms); });
      const r = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (r === PING) {
        yield PING;
        continue;
      }
      pending = undefined;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    clearTimeout(timer);
    // Stopped early (client gone): let the source clean up (it aborts its upstream request).
    if (pending === undefined) await it.return?.();
    else void pending.then(() => it.return?.(), () => {});
  }
}
