/**
 * End-to-end harness shared by the dialect suites: the strict fake Kiro on loopback, the real app
 * on a real socket with its upstream pointed at the fake, and accounts in the real pool.
 *
 *   const e = await startE2E({accounts: [{behaviour: {throttleCalls: 1}}]});
 *   fetch(`${e.url}/v1/messages`, {headers: {"x-api-key": e.clientKey}, ...});
 *   e.fake.requests / e.fake.aborts;  e.accounts[0].behaviour.quota = true;
 *   await e.stop();
 *
 * Or `const e = useE2E();` at the top of a test file: started before its tests, stopped after them.
 */
import { afterAll, beforeAll } from "bun:test";
import { createApp } from "../../src/app";
import type { AppConfig } from "../../src/config/schema";
import type { Services } from "../../src/services";
import { startFakeKiro, type FakeAccount, type FakeAccountInit, type FakeKiro } from "../fake-kiro/server";
import { TEST_CLIENT_KEY, closePgServices, makeServices } from "./app";
import { fakeRefreshToken } from "./kiro";

/** A fake account; refreshToken defaults to a fresh realistic one (the pool rejects short tokens). */
export type FakeAccountSpec = Partial<FakeAccountInit> & { label?: string };

export type E2E = {
  fake: FakeKiro;
  app: ReturnType<typeof createApp>;
  services: Services;
  url: string;
  clientKey: string;
  /** The fake-side accounts, in the order given (mutate `.behaviour` to script failures). */
  accounts: FakeAccount[];
  /** The pool ids of the same accounts. */
  accountIds: string[];
  stop(): Promise<void>;
};

export { fakeRefreshToken };

export async function startE2E(opts: { accounts?: FakeAccountSpec[]; config?: Partial<AppConfig> } = {}): Promise<E2E> {
  const fake = await startFakeKiro();
  const up = fake.upstream;
  const services = await makeServices({ ...opts.config, region: up.region, apiUrl: up.apiUrl, authUrl: up.authUrl, oidcUrl: up.oidcUrl });
  const accounts: FakeAccount[] = [];
  const accountIds: string[] = [];
  const specs = opts.accounts ?? [{}];
  for (const [i, spec] of specs.entries()) {
    const { label, ...init } = spec;
    const acct = fake.addAccount({ ...init, refreshToken: init.refreshToken ?? fakeRefreshToken() });
    accounts.push(acct);
    const r = await services.pool.upsert({
      kind: acct.kind,
      refreshToken: acct.refreshToken,
      clientId: acct.clientId,
      clientSecret: acct.clientSecret,
      label: label ?? `fake-${i + 1}`,
      email: acct.email,
      region: up.region,
      authRegion: up.region,
      source: "test",
      // In spec order, so the "priority" strategy tries them first to last.
      priority: i,
    });
    if (r.outcome === "skipped") throw new Error(`pool refused fake account ${i + 1}: ${r.why}`);
    accountIds.push(r.id);
  }

  const app = createApp(services);
  app.listen({ port: 0, hostname: "127.0.0.1", reusePort: false });
  const url = `http://127.0.0.1:${app.server!.port}`;
  return {
    fake,
    app,
    services,
    url,
    clientKey: TEST_CLIENT_KEY,
    accounts,
    accountIds,
    stop: async () => {
      await app.stop(true);
      for (const fn of services.onShutdown.splice(0)) await fn();
      if (services.store.engine === "postgres") await closePgServices(services);
      await fake.stop();
    },
  };
}

/**
 * startE2E(opts) for one test file: started before all its tests and stopped after all. The
 * returned object reads through to the running harness, so tests use it like startE2E's result.
 */
export function useE2E(opts: Parameters<typeof startE2E>[0] = {}): E2E {
  let e: E2E | undefined;
  beforeAll(async () => {
    e = await startE2E(opts);
  });
  afterAll(async () => {
    await e?.stop();
  });
  const started = (): E2E => {
    if (!e) throw new Error("useE2E: the harness is started in beforeAll");
    return e;
  };
  return {
    get fake() {
      return started().fake;
    },
    get app() {
      return started().app;
    },
    get services() {
      return started().services;
    },
    get url() {
      return started().url;
    },
    get clientKey() {
      return started().clientKey;
    },
    get accounts() {
      return started().accounts;
    },
    get accountIds() {
      return started().accountIds;
    },
    stop: () => started().stop(),
  };
}
