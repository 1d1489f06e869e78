/** IdleTrim: one trim once nothing has been in flight for the idle time, never during a request. */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { IdleTrim, memoryTrim } from "../../src/http/idle-trim";

function trimmer(idleMs: number) {
  const log: string[] = [];
  let onTrim: () => void = () => {};
  const t = new IdleTrim(idleMs, () => {
    log.push("trim");
    onTrim();
  });
  const nextTrim = () => new Promise<void>((resolve) => (onTrim = resolve));
  return { t, log, nextTrim };
}

test("trims once after the last request ends, and not again until another request ran", async () => {
  const { t, log, nextTrim } = trimmer(5);
  const trimmed = nextTrim();
  t.begin();
  t.begin();
  t.end();
  // One request still in flight: no trim may be scheduled.
  t.end();
  await trimmed;
  expect(log).toEqual(["trim"]);
  expect(t.trims).toBe(1);
  // Another request: one more trim once it is over.
  t.begin();
  const again = nextTrim();
  t.end();
  await again;
  expect(t.trims).toBe(2);
  t.stop();
});

test("a request starting before the idle time is up cancels the pending trim", async () => {
  const { t, log, nextTrim } = trimmer(30);
  t.begin();
  t.end();
  t.begin(); // within 30 ms: the pending trim is cancelled
  const trimmed = nextTrim();
  const started = performance.now();
  t.end();
  await trimmed;
  expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  expect(log).toEqual(["trim"]);
  t.stop();
});

test("memoryTrim frees SQLite's page cache first, and a closed database does not stop the rest", () => {
  const calls: string[] = [];
  memoryTrim({ exec: (sql) => calls.push(sql) })();
  expect(calls).toEqual(["PRAGMA shrink_memory;"]);

  // A real connection keeps working after its cache was dropped.
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b');");
  memoryTrim(db)();
  expect(db.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
  db.close();
  // bun:sqlite throws on a closed database: the collection still runs, nothing escapes.
  expect(() => memoryTrim(db)()).not.toThrow();
});
