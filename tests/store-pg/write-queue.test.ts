import { expect, test } from "bun:test";
import { WriteQueue } from "../../src/db/pg/repos/queue";

/** A write that finishes when the test says. */
function held() {
  let done!: () => void;
  const p = new Promise<void>((r) => (done = r));
  return { run: () => p, done };
}

test("settled(prefix) waits for those writes only, not for the rest of the queue", async () => {
  const q = new WriteQueue();
  const order: string[] = [];
  const first = held();
  const mine = held();
  const later = held();
  q.push("account a update", first.run);
  q.push("key k1 insert", () => mine.run().then(() => void order.push("key stored")));
  q.push("account counters", later.run);
  await q.settled("key k2 "); // nothing of k2 queued: at once
  const waiting = q.settled("key k1 ").then(() => void order.push("settled"));
  first.done();
  mine.done();
  await waiting;
  // The write after it is still running; settled did not wait for it.
  expect(order).toEqual(["key stored", "settled"]);
  expect(q.has("account counters")).toBe(true);
  later.done();
  await q.flush();
  expect(q.size).toBe(0);
});

test("settled resolves for a write that was given up as well", async () => {
  const q = new WriteQueue(undefined, 2, 1);
  let calls = 0;
  q.push("key k1 insert", async () => { calls++; throw new Error("refused"); });
  await q.settled("key k1 ");
  expect(calls).toBe(2);
  expect(q.has("key k1 ")).toBe(false);
});
