import { Elysia } from "elysia";
import type { Services } from "../services";

/**
 * Liveness for a load balancer: always 200 while the process serves (the request path works from
 * memory even when the database is briefly unreachable); `database` says how the store answers
 * and `status` is "degraded" when it does not.
 */
export const healthRoutes = (s: Services) =>
  new Elysia({ name: "health" }).get("/health", async () => {
    const database = await s.store.health();
    return {
      status: database.ok ? "ok" : "degraded",
      version: s.version,
      instance: s.config.instanceId,
      uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
      database,
    };
  });
