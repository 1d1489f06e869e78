import { bootServices } from "../../src/boot";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config/load";
import type { AppConfig } from "../../src/config/schema";
import type { Services } from "../../src/services";
import { startPostgres, type PgCluster } from "./postgres";

export const TEST_CLIENT_KEY = "test-client-key";
export const TEST_ADMIN_TOKEN = "test-admin-token";

/** Config as the real loader builds it (defaults applied), with test overrides. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  const { config } = loadConfig([], {});
  return {
    ...config,
    dbPath: ":memory:",
    port: 0,
    clientToken: TEST_CLIENT_KEY,
    adminToken: TEST_ADMIN_TOKEN,
    logLevel: "error",
    // Pacing off and the earlier concurrency unless a test sets them: tests send bursts no person would.
    accountRpm: 0,
    accountMinSpacingMs: 0,
    accountConcurrency: 4,
    ...overrides,
  };
}

/**
 * `KIRO_TEST_DATABASE=postgres npx bun test` runs the suite against PostgreSQL: every app a test
 * builds boots on a fresh database of one cluster started for the test process (stopped with it).
 */
export const TEST_ON_POSTGRES = process.env.KIRO_TEST_DATABASE === "postgres";

type PgTestState = { cluster: Promise<PgCluster>; file?: string; open: Services[] };
const pgState: { current?: PgTestState } = {};
// Started as soon as a test file loads this module, so the first app does not wait for initdb.
if (TEST_ON_POSTGRES) {
  const cluster = startPostgres();
  cluster.catch(() => {}); // reported when the first app awaits it
  pgState.current = { cluster, open: [] };
}

/** The test file calling into this module (the first stack frame under tests/ that is not tests/support/). */
function callerFile(): string {
  const frames = new Error().stack?.split("\n") ?? [];
  return frames.map((f) => /\(?([^()\s]*\/tests\/[^()\s]*?\.test\.ts)/.exec(f)?.[1]).find((f) => f !== undefined) ?? "?";
}

/**
 * A fresh PostgreSQL database URL for this test's app. Test files run one after another in one
 * process, so when a new file starts building apps, the previous file's apps are closed (their
 * database connections released).
 */
async function postgresDatabase(): Promise<string> {
  const st = (pgState.current ??= { cluster: startPostgres(), open: [] });
  const file = callerFile();
  if (st.file !== file) {
    st.file = file;
    const done = st.open.splice(0);
    await Promise.all(done.map((s) => closePgServices(s).catch(() => {})));
  }
  return (await st.cluster).newDatabase("suite");
}

/**
 * Closes a test app's PostgreSQL store the way shutdown does: the request log's waiting rows and
 * the keys' usage counters are handed over first. Otherwise their flush timers fire after the
 * close, and the write that fails on the closed connection surfaces in whatever test runs then.
 */
export async function closePgServices(s: Services): Promise<void> {
  s.requestLog.flush();
  s.keys.flushUsage();
  await s.store.close();
}

/** Real services on an in-memory DB (or a fresh PostgreSQL database, see TEST_ON_POSTGRES) with the real migrations. */
export async function makeServices(overrides: Partial<AppConfig> = {}): Promise<Services> {
  const pg = TEST_ON_POSTGRES && overrides.databaseUrl === undefined && overrides.dbPath === undefined
    ? { databaseUrl: await postgresDatabase(), secretKey: overrides.secretKey ?? "test-secret-key-for-postgres-runs" }
    : {};
  const { services } = await bootServices(testConfig({ ...overrides, ...pg }));
  if (pg.databaseUrl) pgState.current!.open.push(services);
  return services;
}

/** The real app without a socket; use app.handle(new Request("http://localhost/...")). */
export async function makeApp(overrides: Partial<AppConfig> = {}) {
  const services = await makeServices(overrides);
  return { app: createApp(services), services };
}

/** The real app on a real socket (port 0). Call stop() in afterAll. */
export async function startApp(overrides: Partial<AppConfig> = {}, prepare?: (s: Services) => void | Promise<void>) {
  const services = await makeServices(overrides);
  await prepare?.(services);
  const app = createApp(services);
  app.listen({ port: 0, hostname: "127.0.0.1", reusePort: false });
  const url = `http://127.0.0.1:${app.server!.port}`;
  return {
    app,
    services,
    url,
    stop: async () => {
      await app.stop(true);
      for (const fn of services.onShutdown.splice(0)) await fn();
      if (services.store.engine === "postgres") await closePgServices(services);
    },
  };
}
