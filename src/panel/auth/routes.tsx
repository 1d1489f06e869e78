import { Elysia } from "elysia";
import type { PanelCtx } from "../context";
import { field, htmlResponse } from "../context";
import { csrfRefusal, hostRefusal, sessionOf } from "../../admin/guard";
import { clearedSessionCookie, safeEqual, sessionCookie } from "../../admin/session";
import { LoginPage } from "./page";

/**
 * Login with the admin token (from the printed URL or the form) and logout. The token is moved
 * out of the URL by the redirect; the session cookie is HttpOnly + SameSite=Strict.
 */
export function authRoutes(ctx: PanelCtx) {
  const signIn = (token: string) => {
    if (!token || !safeEqual(token, ctx.s.adminToken)) return null;
    const { cookie } = ctx.sessions.create();
    ctx.s.log.info("admin signed in to the panel");
    return new Response(null, { status: 303, headers: { location: "/", "set-cookie": sessionCookie(cookie), "cache-control": "no-store" } });
  };
  const failed = () => {
    ctx.s.log.warn("admin sign-in failed: wrong token");
    return htmlResponse(<LoginPage error="That token is not the admin token." />, { status: 401 });
  };

  return new Elysia()
    .onBeforeHandle(({ request }) => hostRefusal(request, ctx.allowed) ?? undefined)
    .get("/login", ({ request, query }) => {
      const token = typeof query.token === "string" ? query.token : "";
      if (token) return signIn(token) ?? failed();
      if (sessionOf(request, ctx.sessions)) return new Response(null, { status: 303, headers: { location: "/" } });
      return htmlResponse(<LoginPage />);
    })
    .post("/login", ({ body }) => signIn(field(body, "token")) ?? failed())
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
