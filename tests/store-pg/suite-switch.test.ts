import { expect, test } from "bun:test";
import { TEST_ON_POSTGRES, makeApp } from "../support/app";

/** `KIRO_TEST_DATABASE=postgres` makes every app the suite builds run on PostgreSQL; without it, SQLite. */
test(`the suite's apps run on ${TEST_ON_POSTGRES ? "PostgreSQL" : "SQLite"}`, async () => {
  const { app, services } = await makeApp();
  expect(services.store.engine).toBe(TEST_ON_POSTGRES ? "postgres" : "sqlite");
  const health = (await (await app.handle(new Request("http://127.0.0.1/health"))).json()) as { database: { engine: string; ok: boolean } };
  expect(health.database).toMatchObject({ engine: services.store.engine, ok: true });
  // The built-in key and the settings are read from that store.
  expect(services.keys.list().some((k) => k.builtin)).toBe(true);
  if (TEST_ON_POSTGRES) await services.store.close();
}, 60_000); // the first app of a PostgreSQL run may wait for its cluster to start
