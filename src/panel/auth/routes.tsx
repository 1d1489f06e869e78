import { Elysia } from "elysia";
import type { PanelCtx } from "../context";
import { field, htmlResponse, trFor } from "../context";
import { csrfRefusal, hostRefusal, sessionOf } from "../../admin/guard";
import { clearedSessionCookie, safeEqual, sessionCookie } from "../../admin/session";
import { LANG_COOKIE, isLocale } from "../shared/i18n";
import { LoginPage } from "./page";

const YEAR_S = 365 * 86_400;

/** Only a path on this server ("/accounts?page=2"), never "//evil.example" or a full URL. */
export function localPath(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/";
}

/**
 * Login with the admin token (from the printed URL or the form), logout, and the language
 * switch. The token is moved out of the URL by the redirect; the session cookie is HttpOnly +
 * SameSite=Strict. The language cookie holds only "en" or "zh-CN".
 */
export function authRoutes(ctx: PanelCtx) {
  const signIn = (token: string) => {
    if (!token || !safeEqual(token, ctx.s.adminToken)) return null;
    const { cookie } = ctx.sessions.create();
    ctx.s.log.info("admin signed in to the panel");
    return new Response(null, { status: 303, headers: { location: "/", "set-cookie": sessionCookie(cookie), "cache-control": "no-store" } });
  };
  const failed = (request: Request) => {
    ctx.s.log.warn("admin sign-in failed: wrong token");
    const tr = trFor(request);
    return htmlResponse(<LoginPage tr={tr} error={tr.t("login.wrong")} />, { status: 401 });
  };

  return new Elysia()
    .onBeforeHandle(({ request }) => hostRefusal(request, ctx.allowed) ?? undefined)
    .get("/login", ({ request, query }) => {
      const token = typeof query.token === "string" ? query.token : "";
      if (token) return signIn(token) ?? failed(request);
      if (sessionOf(request, ctx.sessions)) return new Response(null, { status: 303, headers: { location: "/" } });
      return htmlResponse(<LoginPage tr={trFor(request)} />);
    })
    .post("/login", ({ request, body }) => signIn(field(body, "token")) ?? failed(request))
    .get("/lang", ({ query }) => {
      const headers: Record<string, string> = { location: localPath(query.next), "cache-control": "no-store" };
      if (isLocale(query.to)) headers["set-cookie"] = `${LANG_COOKIE}=${query.to}; Path=/; SameSite=Lax; Max-Age=${YEAR_S}`;
      return new Response(null, { status: 303, headers });
    })
    .post("/logout", ({ request, body }) => {
      const session = sessionOf(request, ctx.sessions);
      if (session) {
        const refused = csrfRefusal(request, session, body);
        if (refused) return refused;
        ctx.sessions.destroy(session.id);
      }
      return new Response(null, { status: 303, headers: { location: "/login", "set-cookie": clearedSessionCookie() } });
    });
}
