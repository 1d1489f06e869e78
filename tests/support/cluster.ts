/**
 * One kiro-server instance of a test cluster: real services on the given PostgreSQL database,
 * pointed at the fake Kiro, listening on a free port; `stop` shuts it down as the server does.
 */
import { createApp } from "../../src/app";
import type { Services } from "../../src/services";
import type { FakeKiro } from "../fake-kiro/server";
import { closePgServices, makeServices } from "./app";

export type Instance = { id: string; services: Services; url: string; stop(): Promise<void> };

export async function startInstance(id: string, databaseUrl: string, fake: FakeKiro, secretKey: string): Promise<Instance> {
  const up = fake.upstream;
  const services = await makeServices({ databaseUrl, secretKey, instanceId: id, region: up.region, apiUrl: up.apiUrl, authUrl: up.authUrl, oidcUrl: up.oidcUrl });
  const app = createApp(services);
  app.listen({ port: 0, hostname: "127.0.0.1", reusePort: false });
  return {
    id,
    services,
    url: `http://127.0.0.1:${app.server!.port}`,
    async stop() {
      await app.stop(true);
      for (const fn of services.onShutdown.splice(0)) await fn();
      await closePgServices(services);
    },
  };
}
