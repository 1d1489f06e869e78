import { Elysia } from "elysia";
import type { Services } from "../services";

/** token pool status (/api/tokens). */
export const statusRoutes = (_s: Services) => new Elysia({ name: "status-routes" });
