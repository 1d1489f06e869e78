/**
 * sseWriter on its own: the body text in order, a failure after the 200 as the dialect's error
 * text, and the turn always finished — also when the body is cancelled before it was ever read
 * (Bun cancels a response whose client left before it went out; the turn must still release its
 * lease and write its log, which happens in the turn's own cleanup).
 */
import { expect, test } from "bun:test";
import type { CanonicalEvent } from "../../src/core/canonical";
import { DONE, type PollIterator } from "../../src/core/poll";
import { sseWriter, type SseHooks } from "../../src/http/sse-writer";

const text = (t: string): CanonicalEvent => ({ type: "text", text: t });

/** A turn that yields `batches`, then optionally fails or waits forever; records its cleanup. */
function turn(batches: CanonicalEvent[][], opts: { fail?: Error; hang?: boolean } = {}) {
  let cleaned!: () => void;
  const cleanedUp = new Promise<void>((resolve) => (cleaned = resolve));
  let release: () => void = () => {};
  async function* gen(): AsyncGenerator<CanonicalEvent[]> {
    try {
      for (const b of batches) yield b;
      if (opts.fail) throw opts.fail;
      if (opts.hang) await new Promise<void>((resolve) => (release = resolve));
    } finally {
      cleaned();
    }
  }
  return { gen: gen(), cleanedUp, release: () => release() };
}

function hooks(onCancel: () => void = () => {}) {
  const calls = { done: 0, cancel: 0 };
  let doneResolve!: () => void;
  const done = new Promise<void>((resolve) => (doneResolve = resolve));
  const h: SseHooks = {
    start: () => "start\n",
    frame: (b) => b.map((e) => (e.type === "text" ? `t:${e.text}\n` : "")).join(""),
    end: () => "end\n",
    fail: (err) => `fail:${(err as Error).message}\n`,
    done: () => {
      calls.done++;
      doneResolve();
    },
    cancel: () => {
      calls.cancel++;
      onCancel();
    },
  };
  return { h, calls, done };
}

test("writes start, one text per batch and end, then reports done once", async () => {
  const t = turn([[text("a"), text("b")], [text("c")]]);
  const { h, calls, done } = hooks();
  const body = await new Response(sseWriter(t.gen, 60_000, "ping\n", h)).text();
  expect(body).toBe("start\nt:a\nt:b\nt:c\nend\n");
  await done;
  expect(calls).toEqual({ done: 1, cancel: 0 });
});

test("a failure after the first batch becomes the dialect's error text", async () => {
  const t = turn([[text("a")]], { fail: new Error("upstream broke") });
  const { h, done } = hooks();
  const body = await new Response(sseWriter(t.gen, 60_000, "ping\n", h)).text();
  expect(body).toBe("start\nt:a\nfail:upstream broke\n");
  await done;
  await t.cleanedUp;
});

test("cancelled while streaming: the turn is cancelled and cleaned up", async () => {
  let t!: ReturnType<typeof turn>;
  const { h, calls, done } = hooks(() => t.release());
  t = turn([[text("a")]], { hang: true });
  const reader = sseWriter(t.gen, 60_000, "ping\n", h).getReader();
  let seen = "";
  while (!seen.includes("t:a")) seen += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  await t.cleanedUp;
  await done;
  expect(calls.cancel).toBe(1);
  expect(calls.done).toBe(1);
});

test("cancelled before it was ever read: the turn still runs its cleanup and done is reported", async () => {
  const t = turn([[text("a")]], { hang: true });
  const { h, calls, done } = hooks(() => t.release());
  const stream = sseWriter(t.gen, 60_000, "ping\n", h);
  await stream.cancel();
  await t.cleanedUp;
  await done;
  expect(calls).toEqual({ done: 1, cancel: 1 });
});

test("a PollIterator is polled, never awaited through next(): batches, a wait, then its failure as the error text", async () => {
  let step = 0;
  let wake!: () => void;
  let waiting!: () => void;
  const waited = new Promise<void>((resolve) => (waiting = resolve));
  let nextCalls = 0;
  const src: PollIterator<CanonicalEvent[]> = {
    poll() {
      step++;
      if (step === 1) return { done: false, value: [text("a")] };
      if (step === 2) return undefined; // nothing yet: the writer waits on ready()
      if (step === 3) return { done: false, value: [text("b")] };
      throw new Error("upstream reset");
    },
    ready() {
      waiting();
      return new Promise<void>((resolve) => (wake = resolve));
    },
    next() {
      nextCalls++;
      return Promise.resolve(DONE);
    },
    return: async () => DONE,
    [Symbol.asyncIterator]: () => src,
  };
  const { h, calls, done } = hooks();
  const reading = new Response(sseWriter({ [Symbol.asyncIterator]: () => src }, 60_000, "ping\n", h)).text();
  await waited;
  expect(step).toBe(2);
  wake();
  expect(await reading).toBe("start\nt:a\nt:b\nfail:upstream reset\n");
  await done;
  expect(calls.done).toBe(1);
  expect(nextCalls).toBe(0);
});

/** A PollIterator that yields `ready` batches at once, then waits on ready() until `wake`. */
function pollSource(readyBatches: CanonicalEvent[][]) {
  let wake!: () => void;
  let woken = false;
  const src: PollIterator<CanonicalEvent[]> = {
    poll() {
      const b = readyBatches.shift();
      if (b) return { done: false, value: b };
      return woken ? DONE : undefined;
    },
    ready: () =>
      new Promise<void>((resolve) => {
        wake = () => {
          woken = true;
          resolve();
        };
      }),
    next: () => Promise.resolve(DONE),
    return: async () => DONE,
    [Symbol.asyncIterator]: () => src,
  };
  return { src, wake: () => wake() };
}

/** What the first read of the writer's stream holds, then everything after it once the source ends. */
async function firstReadThenRest(ready: CanonicalEvent[][]): Promise<{ first: string; rest: string; done: Promise<void> }> {
  const { src, wake } = pollSource(ready);
  const { h, done } = hooks();
  const reader = sseWriter({ [Symbol.asyncIterator]: () => src }, 60_000, "ping\n", h).getReader();
  const decoder = new TextDecoder();
  const first = decoder.decode((await reader.read()).value);
  wake();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
  return { first, rest, done };
}

test("the start text goes out in one write with the first batch when that batch is ready", async () => {
  expect(await firstReadThenRest([[text("a")]])).toMatchObject({ first: "start\nt:a\n", rest: "end\n" });
});

test("with no batch ready the start text is written alone before the wait, and a stream with no batch still ends with start and end", async () => {
  const r = await firstReadThenRest([]);
  expect(r).toMatchObject({ first: "start\n", rest: "end\n" });
  await r.done;
});

test("a failure before any batch is written after the start text", async () => {
  const src: PollIterator<CanonicalEvent[]> = {
    poll() {
      throw new Error("upstream reset");
    },
    ready: () => Promise.resolve(),
    next: () => Promise.resolve(DONE),
    return: async () => DONE,
    [Symbol.asyncIterator]: () => src,
  };
  const { h, done } = hooks();
  expect(await new Response(sseWriter({ [Symbol.asyncIterator]: () => src }, 60_000, "ping\n", h)).text()).toBe("start\nfail:upstream reset\n");
  await done;
});

test("the first batch is written on its own even when more are ready at once (it leaves before they are encoded)", async () => {
  expect(await firstReadThenRest([[text("a")], [text("b")], [text("c")]])).toMatchObject({ first: "start\nt:a\n", rest: "t:b\nt:c\nend\n" });
});
