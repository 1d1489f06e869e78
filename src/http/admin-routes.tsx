import { Elysia } from "elysia";
import type { Services } from "../services";

/** Admin panel at / (login, dashboard, accounts, logs, requests, keys, settings). */
export const adminRoutes = (_s: Services) => new Elysia({ name: "admin-routes" });
