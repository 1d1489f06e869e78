/**
 * Kiro's abuse-detection throttle, as users of other Kiro proxies have reported it: HTTP 429 with
 * the body `{"message":"Due to suspicious activity, we are imposing temporary limits on how
 * frequently your account (<user id>) can send a request to Kiro while we investigate. …",
 * "reason":null}` — no `__type`, no reason — after a few requests in quick succession from one
 * account, while the account's other limits are far away.
 *
 * Per-account behaviours (part of FakeBehaviour, mutable at any time):
 *   abuseCalls          next N chat calls → the abuse 429
 *   abuseLimit          the service's own rate check, enforced: a chat call that would be the
 *                       (requests+1)-th within windowMs → the abuse 429, and every call for lockMs
 *                       after it (default: windowMs). The fake fills in `seen` / `lockedUntil`.
 *   abuseRetryAfterSec  a Retry-After header on the abuse 429 (none by default: the reports show none)
 *   abuseAnswers        how many abuse 429s this account has sent (the fake counts)
 */
export type AbuseLimit = {
  requests: number;
  windowMs: number;
  lockMs?: number;
  /** Chat calls accepted within the window (filled by the fake). */
  seen?: number[];
  /** Until when every call gets the abuse 429 (filled by the fake). */
  lockedUntil?: number;
};

export type AbuseBehaviour = {
  abuseCalls?: number;
  abuseLimit?: AbuseLimit;
  abuseRetryAfterSec?: number;
  abuseAnswers?: number;
};

export function abuseMessage(userId: string): string {
  return (
    `Due to suspicious activity, we are imposing temporary limits on how frequently your account (${userId}) ` +
    "can send a request to Kiro while we investigate. If you need assistance, please contact support at " +
    "https://app.kiro.dev/account/usage?support_form."
  );
}

/** The abuse 429 for this chat call, or undefined when the account may go on. */
export function abuseAnswer(b: AbuseBehaviour, userId: string, now = Date.now()): Response | undefined {
  if (!limited(b, now)) return undefined;
  b.abuseAnswers = (b.abuseAnswers ?? 0) + 1;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (b.abuseRetryAfterSec !== undefined) headers["retry-after"] = String(b.abuseRetryAfterSec);
  return new Response(JSON.stringify({ message: abuseMessage(userId), reason: null }), { status: 429, headers });
}

function limited(b: AbuseBehaviour, now: number): boolean {
  if (b.abuseCalls && b.abuseCalls > 0) {
    b.abuseCalls--;
    return true;
  }
  const l = b.abuseLimit;
  if (!l) return false;
  if (l.lockedUntil !== undefined && now < l.lockedUntil) return true;
  const seen = (l.seen ??= []).filter((t) => t > now - l.windowMs);
  l.seen = seen;
  if (seen.length >= l.requests) {
    l.lockedUntil = now + (l.lockMs ?? l.windowMs);
    return true;
  }
  seen.push(now);
  return false;
}
