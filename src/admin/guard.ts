import { ALLOWED_HOSTS_SETTING, isAllowedHost, isAllowedOrigin } from "./host-guard";
import { type AdminSession, type AdminSessions, SESSION_COOKIE, readCookie, safeEqual } from "./session";

/**
 * The checks every panel/admin request passes, in order: Host (DNS rebinding) → session →
 * CSRF token on state-changing methods. Returns the refusal Response, or null to go on.
 */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/** The Host header; under app.handle() (tests) a Request has none, so the URL's host stands in (Bun builds the URL from Host). */
export function hostOf(request: Request): string {
  return request.headers.get("host") ?? new URL(request.url).host;
}

export function hostRefusal(request: Request, allowed: Set<string>): Response | null {
  if (!isAllowedHost(hostOf(request), allowed)) {
    return text(403, `Forbidden: this panel only answers on the address the server is bound to (or localhost). To open it under another name (e.g. behind a load balancer), add that name to ${ALLOWED_HOSTS_SETTING}.`);
  }
  if (!SAFE_METHODS.has(request.method) && !isAllowedOrigin(request.headers.get("origin"), allowed)) {
    return text(403, "Forbidden: cross-origin request.");
  }
  return null;
}

export function sessionOf(request: Request, sessions: AdminSessions): AdminSession | null {
  return sessions.get(readCookie(request.headers.get("cookie"), SESSION_COOKIE));
}

/** Not signed in: pages redirect to /login, htmx swaps redirect the whole page, anything else gets 401. */
export function loginRequired(request: Request): Response {
  if (request.headers.get("hx-request")) return text(401, "Sign in first.", { "hx-redirect": "/login" });
  const accept = request.headers.get("accept") ?? "";
  if (request.method === "GET" && accept.includes("text/html")) return new Response(null, { status: 303, headers: { location: "/login" } });
  return text(401, "Sign in first: this admin route needs an admin session.");
}

export function csrfRefusal(request: Request, session: AdminSession, body: unknown): Response | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const field = body && typeof body === "object" ? (body as Record<string, unknown>)._csrf : undefined;
  const presented = request.headers.get("x-csrf-token") ?? (typeof field === "string" ? field : "");
  return presented && safeEqual(presented, session.csrf) ? null : text(403, "Forbidden: missing or wrong CSRF token. Reload the page.");
}
