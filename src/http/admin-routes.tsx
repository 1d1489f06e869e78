import { Elysia } from "elysia";
import { html } from "@elysiajs/html";
import type { Services } from "../services";
import { assetRoutes } from "../admin/assets";
import { makePanelCtx } from "../admin/context";
import { authRoutes } from "../admin/routes/auth";
import { dashboardRoutes } from "../admin/routes/dashboard";
import { accountRoutes } from "../admin/routes/accounts";
import { logRoutes } from "../admin/routes/logs";
import { requestRoutes } from "../admin/routes/requests";
import { keyRoutes } from "../admin/routes/keys";
import { settingsRoutes } from "../admin/routes/settings";

/**
 * Admin panel at / (login, dashboard, accounts, live logs, requests, keys, settings).
 * Every route but the login page and static assets needs an admin session; all of them refuse
 * foreign Host headers; state-changing requests need the session's CSRF token.
 */
export const adminRoutes = (s: Services) => {
  const ctx = makePanelCtx(s);
  return new Elysia({ name: "admin-routes" })
    .use(html())
    .use(assetRoutes(ctx.allowed))
    .use(authRoutes(ctx))
    .use(dashboardRoutes(ctx))
    .use(accountRoutes(ctx))
    .use(logRoutes(ctx))
    .use(requestRoutes(ctx))
    .use(keyRoutes(ctx))
    .use(settingsRoutes(ctx));
};
