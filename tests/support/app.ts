import { bootServices } from "../../src/boot";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config/load";
import type { AppConfig } from "../../src/config/schema";
import type { Services } from "../../src/services";

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

/** Real services on an in-memory DB with the real migrations. */
export async function makeServices(overrides: Partial<AppConfig> = {}): Promise<Services> {
  const { services } = await bootServices(testConfig(overrides));
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
    },
  };
}
