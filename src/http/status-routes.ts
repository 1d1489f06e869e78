import { Elysia } from "elysia";
import type { Services } from "../services";
import { presentedKey } from "../keys/client-keys";
import { allowedHosts, isAllowedHost } from "../admin/host-guard";
import { hostOf, sessionOf } from "../admin/guard";
import { sessionsFor } from "../admin/session";

/**
 * Token pool status (/api/tokens), the original product's endpoint. Anyone gets aggregate counts;
 * a client key or an admin session also gets per-account status. Everything comes from the pool's
 * in-memory state — this route never refreshes a token or calls Kiro — and nothing secret is in it.
 */

/** "alice@example.com" → "a***e@example.com": enough to recognise an account, not to harvest addresses. */
export function maskEmail(email: string | undefined): string | null {
  if (!email) return null;
  const at = email.indexOf("@");
  if (at < 1) return "***";
  const user = email.slice(0, at);
  return `${user[0]}***${user.length > 1 ? user[user.length - 1] : ""}${email.slice(at)}`;
}

export const statusRoutes = (s: Services) => {
  const allowed = allowedHosts(s.config.host, s.config.allowedHosts);
  const sessions = sessionsFor(s);
  const authorised = (request: Request) =>
    !!s.keys.verify(presentedKey(request.headers)) || (isAllowedHost(hostOf(request), allowed) && !!sessionOf(request, sessions));

  return new Elysia({ name: "status-routes" }).get("/api/tokens", ({ request }) => {
    const p = s.pool.summary();
    const body: Record<string, unknown> = {
      total: p.total, healthy: p.active, usable: p.usable, cooling: p.cooling, exhausted: p.exhausted, disabled: p.disabled,
      inflight: p.inflight, strategy: p.strategy, nextRecoveryAt: p.nextRecoveryAt ?? null,
    };
    if (authorised(request)) {
      body.accounts = s.pool.list().map((a) => ({
        id: a.id, label: a.label, email: maskEmail(a.email), kind: a.kind, fingerprint: a.fingerprint,
        state: a.state, reason: a.stateReason ?? null, until: a.stateUntil ?? null, inflight: a.inflight,
        requests: a.requests, errors: a.errors, lastUsedAt: a.lastUsedAt ?? null, lastError: a.lastError ?? null,
        quota: a.quota ? { used: a.quota.used, limit: a.quota.limit, remaining: a.quota.remaining, resetAt: a.quota.resetAt ?? null, subscription: a.quota.subscription ?? null, fetchedAt: a.quota.fetchedAt } : null,
      }));
    }
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
  });
};
