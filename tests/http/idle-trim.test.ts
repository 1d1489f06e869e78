/**
 * IdleTrim: a light stage, then a deep one, each once per quiet period after the last request,
 * never during a request.
 */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { IdleTrim, memoryTrim } from "../../src/http/idle-trim";

function trimmer(lightMs: number, deepMs: number) {
  const log: string[] = [];
  const waiters: Array<{ want: string; resolve: () => void }> = [];
  const record = (stage: string) => {
    log.push(stage);
    for (const w of waiters.splice(0)) if (w.want === stage) w.resolve();
    else waiters.push(w);
  };
  const t = new IdleTrim({ lightMs, deepMs }, { light: () => record("light"), deep: () => record("deep") });
  const next = (want: "light" | "deep") => new Promise<void>((resolve) => waiters.push({ want, resolve }));
  return { t, log, next };
}

test("light then deep once after the last request ends, and not again until another request ran", async () => {
  const { t, log, next } = trimmer(5, 20);
  const deep = next("deep");
  t.begin();
  t.begin();
  t.end();
  // One request still in flight: nothing may be scheduled.
  t.end();
  await deep;
  expect(log).toEqual(["light", "deep"]);
  expect([t.trims, t.deepTrims]).toEqual([1, 1]);
  // Another request: both stages once more once it is over.
  t.begin();
  const again = next("deep");
  t.end();
  await again;
  expect(log).toEqual(["light", "deep", "light", "deep"]);
  t.stop();
});

test("a request between the stages cancels the deep one; the quiet time counts again from its end", async () => {
  const { t, log, next } = trimmer(5, 60);
  const light = next("light");
  t.begin();
  t.end();
  await light;
  t.begin(); // after the light stage, before the deep one
  const started = performance.now();
  const deep = next("deep");
  t.end();
  await deep;
  expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  expect(log).toEqual(["light", "light", "deep"]);
  t.stop();
});

test("a request starting before the light stage cancels it", async () => {
  const { t, log, next } = trimmer(30, 40);
  t.begin();
  t.end();
  t.begin(); // within 30 ms: the pending stages are cancelled
  const light = next("light");
  const started = performance.now();
  t.end();
  await light;
  expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  expect(log).toEqual(["light"]);
  t.stop();
});

test("the quiet hooks run at the light stage, before its trim; one that throws does not stop the others or the trim", async () => {
  const log: string[] = [];
  const quiet: Array<() => void> = [];
  let lit!: () => void;
  const light = new Promise<void>((resolve) => (lit = resolve));
  const t = new IdleTrim({ lightMs: 5, deepMs: 1_000, quiet }, { light: () => (log.push("light"), lit()), deep: () => log.push("deep") });
  // Hooks registered after the trim was built are run too.
  quiet.push(() => log.push("fold"), () => { throw new Error("broken hook"); }, () => log.push("other"));
  t.begin();
  t.end();
  await light;
  expect(log).toEqual(["fold", "other", "light"]);
  t.stop();
});

test("stop() cancels pending stages", async () => {
  const { t, log } = trimmer(1, 2);
  t.begin();
  t.end();
  t.stop();
  // A later timer proves the cancelled ones had their chance to fire.
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  expect(log).toEqual([]);
});

test("memoryTrim's light stage frees SQLite's page cache, and a closed database does not stop the rest", () => {
  const calls: string[] = [];
  memoryTrim({ exec: (sql) => calls.push(sql) }).light();
  expect(calls).toEqual(["PRAGMA shrink_memory;"]);

  // A real connection keeps working after its cache was dropped, and after the deep stage.
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b');");
  const trim = memoryTrim(db);
  trim.light();
  trim.deep();
  expect(db.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
  db.close();
  // bun:sqlite throws on a closed database: the collection still runs, nothing escapes.
  expect(() => memoryTrim(db).light()).not.toThrow();
});
