import { Elysia } from "elysia";
import type { Services } from "../services";

export const healthRoutes = (s: Services) =>
  new Elysia({ name: "health" }).get("/health", () => ({
    status: "ok",
    version: s.version,
    uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
  }));
