import { Elysia } from "elysia";
import { html } from "@elysiajs/html";
import type { Services } from "../services";
import { makePanelCtx } from "./context";
import { assetRoutes } from "./shared/assets";
import { authRoutes } from "./auth/routes";
import { dashboardRoutes } from "./dashboard/routes";
import { accountRoutes } from "./accounts/routes";
import { deviceRoutes } from "./accounts/device-routes";
import { logRoutes } from "./logs/routes";
import { usageRoutes } from "./usage/routes";
import { requestRoutes } from "./requests/routes";
import { keyRoutes } from "./keys/routes";
import { settingsRoutes } from "./settings/routes";

/**
 * Admin panel at / (login, dashboard, accounts, usage, live logs, requests, keys, settings), one folder
 * per page holding its routes and its view; layout, components and static assets in shared/.
 * Every route but the login page and static assets needs an admin session; all of them refuse
 * foreign Host headers; state-changing requests need the session's CSRF token.
 */
export const panelRoutes = (s: Services) => {
  const ctx = makePanelCtx(s);
  return new Elysia({ name: "admin-routes" })
    .use(html())
    .use(assetRoutes(ctx.allowed))
    .use(authRoutes(ctx))
    .use(dashboardRoutes(ctx))
    .use(accountRoutes(ctx))
    .use(deviceRoutes(ctx))
    .use(usageRoutes(ctx))
    .use(logRoutes(ctx))
    .use(requestRoutes(ctx))
    .use(keyRoutes(ctx))
    .use(settingsRoutes(ctx));
};
