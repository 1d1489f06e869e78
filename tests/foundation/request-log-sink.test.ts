/** RequestLogWriter with a sink (PostgreSQL mode): the sink is the log, this process keeps no copy. */
import { expect, test } from "bun:test";
import { openDb } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import { EventBus } from "../../src/logs/bus";
import { RequestLogWriter, type RequestLogEntry } from "../../src/logs/request-log";

const row = (i: number): RequestLogEntry => ({ requestId: `req-${i}`, at: 1_700_000_000_000 + i, dialect: "openai", status: 200, stream: false });

test("with a sink every batch goes there, in order, and nothing stays in the local table; live views still see each row", () => {
  const db = openDb(":memory:");
  runMigrations(db);
  const bus = new EventBus();
  const seen: string[] = [];
  bus.on((e) => { if (e.kind === "request") seen.push(e.requestId!); });
  const stored: RequestLogEntry[][] = [];
  const writer = new RequestLogWriter(db, bus, 200, (rows) => stored.push(rows));
  for (let i = 0; i < 250; i++) writer.record(row(i)); // 200 flush at once, 50 wait for the timer
  writer.flush();
  expect(stored.map((b) => b.length)).toEqual([200, 50]);
  expect(stored.flat().map((r) => r.requestId)).toEqual(Array.from({ length: 250 }, (_, i) => `req-${i}`));
  expect(seen).toHaveLength(250);
  expect(db.$client.query("SELECT count(*) AS n FROM request_log").get()).toEqual({ n: 0 });
  db.$client.close();
});

test("without a sink the rows are stored in this database", () => {
  const db = openDb(":memory:");
  runMigrations(db);
  const writer = new RequestLogWriter(db, new EventBus());
  for (let i = 0; i < 3; i++) writer.record(row(i));
  writer.flush();
  expect(db.$client.query("SELECT count(*) AS n FROM request_log").get()).toEqual({ n: 3 });
  db.$client.close();
});
