/**
 * Poll iterators (src/core/poll.ts) and the streaming path built on them: a network read that is
 * already queued goes through the decoder in the same synchronous call, and an ordinary async
 * iterator still works wherever a PollIterator is expected.
 */
import { describe, expect, test } from "bun:test";
import { chunkBody, type BodyQueue } from "../../src/kiro/chunk-body";
import { decodeKiroBatches } from "../../src/kiro/stream/decode";
import { DONE, flatten, isPollIterator, nextOf, pollable } from "../../src/core/poll";
import { encodeEvent } from "../fake-kiro/frames";

describe("pollable", () => {
  test("an async generator: nothing until ready() settles, then its values, its end and its return", async () => {
    let returned = false;
    async function* gen() {
      try {
        yield 1;
        yield 2;
      } finally {
        returned = true;
      }
    }
    const p = pollable(gen());
    expect(isPollIterator(p)).toBe(true);
    expect(p.poll()).toBeUndefined();
    await p.ready();
    expect(p.poll()).toEqual({ done: false, value: 1 });
    expect(p.poll()).toBeUndefined();
    expect(await nextOf(p)).toEqual({ done: false, value: 2 });
    await p.return!();
    expect(returned).toBe(true);
    expect(p.poll()).toBe(DONE);
  });

  test("a rejected next() is thrown by poll(), once; ready() itself never rejects", async () => {
    const boom = new Error("boom");
    const p = pollable<number>({ next: () => Promise.reject(boom) });
    await p.ready();
    expect(() => p.poll()).toThrow("boom");
    expect(p.poll()).toBe(DONE);
    expect(await p.next()).toEqual(DONE);
  });

  test("a PollIterator is returned as it is", () => {
    const q: BodyQueue = { queue: [], queued: 0, ended: false };
    const body = chunkBody(q, () => {}, () => {});
    expect(pollable(body)).toBe(body);
  });
});

describe("the socket body and the decoder, polled", () => {
  // A read as the connection queues it: the socket's buffer (here with junk after the body's bytes) and the body's end.
  const frame = (text: string) => {
    const f = encodeEvent("assistantResponseEvent", { content: text });
    const bytes = Buffer.alloc(f.length + 5, 0xee);
    bytes.set(f);
    return { bytes, end: f.length };
  };

  test("a queued read is decoded in the same call; with nothing queued the reader waits on the body's one promise", async () => {
    const q: BodyQueue = { queue: [], queued: 0, ended: false };
    let caughtUp = 0;
    const body = chunkBody(q, () => caughtUp++, () => {});
    const dec = decodeKiroBatches(body, { restoreToolName: (n) => n, thinkingTags: false });
    expect(dec.poll()).toBeUndefined();
    const waiting = dec.ready();
    expect(q.waiting).toBe(waiting);

    // What the connection does on a read: queue it, then wake the reader.
    q.queue.push(frame("Hello"), frame(" world"));
    q.queued = 2;
    q.wake!();
    await waiting;
    expect(q.waiting).toBeUndefined();
    expect(dec.poll()).toEqual({ done: false, value: [{ type: "text", text: "Hello" }] });
    expect(caughtUp).toBe(1);
    // The rest of that read: no await needed.
    expect(dec.poll()).toEqual({ done: false, value: [{ type: "text", text: " world" }] });
    expect(dec.poll()).toBeUndefined();

    q.queue.push(frame("!"));
    expect(dec.poll()).toEqual({ done: false, value: [{ type: "text", text: "!" }] });
    q.ended = true;
    expect(dec.poll()).toEqual({ done: false, value: [{ type: "stop", reason: "end_turn" }] });
    expect(dec.poll()).toBe(DONE);
  });

  test("a failed body is thrown by the decoder's poll, and the body is not read again", async () => {
    const q: BodyQueue = { queue: [], queued: 0, ended: false };
    let ended = 0;
    const dec = decodeKiroBatches(chunkBody(q, () => {}, () => {}), { restoreToolName: (n) => n, onEnd: () => ended++ });
    q.error = Object.assign(new Error("reset"), { code: "ECONNRESET" });
    q.ended = true;
    expect(() => dec.poll()).toThrow("upstream stream read failed: reset");
    expect(dec.poll()).toBe(DONE);
    await dec.return!();
    expect(ended).toBe(1);
  });
});

test("pollable: a read still under way when return() is called is not handed out afterwards", async () => {
  let resolveRead!: (r: IteratorResult<number>) => void;
  const p = pollable<number>({ next: () => new Promise((resolve) => (resolveRead = resolve)), return: async () => DONE });
  const waiting = p.ready();
  await p.return!();
  resolveRead({ done: false, value: 7 });
  await waiting;
  expect(p.poll()).toBe(DONE);
});

test("flatten: items in order across batches (empty ones too), read only when asked", async () => {
  let pulled = 0;
  async function* batches() {
    for (const b of [[1, 2], [], [3], [4, 5]]) {
      pulled++;
      yield b;
    }
  }
  const it = flatten(batches());
  expect(pulled).toBe(0);
  expect(await it.next()).toEqual({ done: false, value: 1 });
  expect(pulled).toBe(1);
  const rest: number[] = [];
  for await (const x of it) rest.push(x);
  expect(rest).toEqual([2, 3, 4, 5]);
  expect(pulled).toBe(4);
});
