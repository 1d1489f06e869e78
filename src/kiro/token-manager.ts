/**
 * Per-account access-token cache:
 *  - refresh when no token is known, when it expired, when less than the refresh margin is left
 *    (5 min, or a quarter of the token's own lifetime when it lives shorter than that, so a
 *    short-lived token is refreshed once per lifetime and not on every use), or when forced after
 *    the service rejected the bearer token;
 *  - one refresh in flight per account: concurrent callers share it;
 *  - a new token is always used, however short-lived it is;
 *  - spacing only after a FAILED refresh: the next unforced attempt waits 30 s, doubling per
 *    further failure up to 10 min (the auth service throttles faster retries). Meanwhile a
 *    still-valid old token is used; an expired one fails with an error that says which refresh
 *    failed, how long ago and when the next attempt is. A successful refresh never delays the next;
 *  - a rotated refresh token is persisted BEFORE the new access token is handed out: the service
 *    invalidates the old refresh token on rotation, so losing the new one loses the account.
 */
import type { KiroUpstreamConfig } from "./config";
import { type RefreshInput, type RefreshResult, refreshAccessToken } from "./auth";
import { KiroError } from "./errors";

/** What a refresh needs (RefreshInput, incl. the per-account proxy) plus the account's current token. */
export type TokenAccount = RefreshInput & {
  id: string;
  accessToken?: string;
  /** Epoch ms; missing → treated as expired. */
  expiresAt?: number;
  /** Store the result (rotated refresh token, access token, expiresAt) atomically. Awaited. */
  persist(result: RefreshResult): Promise<void> | void;
};

export type TokenManagerOptions = {
  upstream: KiroUpstreamConfig;
  /** Injectable for tests; defaults to refreshAccessToken. */
  refresh?: (input: RefreshInput, upstream: KiroUpstreamConfig, signal?: AbortSignal) => Promise<RefreshResult>;
  now?: () => number;
  refreshMarginMs?: number;
  /** Wait after the first failed refresh before the next unforced attempt (doubles per failure). */
  minAttemptIntervalMs?: number;
  /** Upper bound of that wait. */
  maxAttemptIntervalMs?: number;
};

type AccountState = {
  inflight?: Promise<string>;
  /** Consecutive failed refreshes (0 after a success) and when the last one failed. */
  failures: number;
  lastFailureAt?: number;
  lastError?: KiroError;
  /**
   * Our newest result, the refresh token it was obtained with (to detect a stale caller copy) and
   * when it arrived (its lifetime sets the margin of short-lived tokens).
   */
  latest?: { from: string; result: RefreshResult; obtainedAt: number };
};

export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
export const MIN_ATTEMPT_INTERVAL_MS = 30 * 1000;
export const MAX_ATTEMPT_INTERVAL_MS = 10 * 60 * 1000;
/** Share of a short-lived token's lifetime left when it is refreshed ahead of expiry. */
const SHORT_LIVED_MARGIN_SHARE = 0.25;

export class TokenManager {
  private readonly upstream: KiroUpstreamConfig;
  private readonly refresh: NonNullable<TokenManagerOptions["refresh"]>;
  private readonly now: () => number;
  private readonly marginMs: number;
  private readonly minIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly state = new Map<string, AccountState>();

  constructor(opts: TokenManagerOptions) {
    this.upstream = opts.upstream;
    this.refresh = opts.refresh ?? refreshAccessToken;
    this.now = opts.now ?? Date.now;
    this.marginMs = opts.refreshMarginMs ?? REFRESH_MARGIN_MS;
    this.minIntervalMs = opts.minAttemptIntervalMs ?? MIN_ATTEMPT_INTERVAL_MS;
    this.maxIntervalMs = Math.max(this.minIntervalMs, opts.maxAttemptIntervalMs ?? MAX_ATTEMPT_INTERVAL_MS);
  }

  /**
   * True when the account has no token, or less than `marginMs` of validity left (default: the
   * refresh margin, shortened for a token that lives shorter than it — see marginFor).
   */
  needsRefresh(acct: Pick<TokenAccount, "id" | "accessToken" | "expiresAt" | "refreshToken">, marginMs?: number): boolean {
    const cur = this.current(acct as TokenAccount);
    if (!cur.accessToken || cur.expiresAt === undefined || !Number.isFinite(cur.expiresAt)) return true;
    return cur.expiresAt - this.now() < (marginMs ?? this.marginFor(acct.id, cur.accessToken));
  }

  /**
   * The refresh margin of this token: the configured one, or a quarter of the token's lifetime
   * when we obtained it ourselves and it lives shorter than four margins. A token issued for 2 s
   * would otherwise be inside a 5-minute margin from birth and refreshed on every use.
   */
  private marginFor(id: string, accessToken: string, base = this.marginMs): number {
    const latest = this.state.get(id)?.latest;
    if (!latest || latest.result.accessToken !== accessToken) return base;
    const lifetime = latest.result.expiresAt - latest.obtainedAt;
    return Math.min(base, Math.max(0, lifetime * SHORT_LIVED_MARGIN_SHARE));
  }

  /**
   * A usable access token for the account. `force` after a bearer-invalid answer; pass the
   * rejected token as `rejectedToken` so concurrent 403s on the same stale token share one refresh.
   * `aheadMs` (background refresh) widens the margin: refresh when less than that is left
   * (still capped to a short-lived token's last quarter, so it is refreshed once per lifetime).
   */
  async getAccessToken(acct: TokenAccount, opts: { force?: boolean; rejectedToken?: string; aheadMs?: number } = {}): Promise<string> {
    const st = this.stateOf(acct.id);
    if (st.inflight) return st.inflight;
    const cur = this.current(acct);
    const force = opts.force === true && !(opts.rejectedToken && cur.accessToken && cur.accessToken !== opts.rejectedToken);
    const margin = opts.aheadMs !== undefined && cur.accessToken ? this.marginFor(acct.id, cur.accessToken, Math.max(opts.aheadMs, this.marginMs)) : undefined;
    if (!force && !this.needsRefresh(acct, margin)) return cur.accessToken!;
    if (opts.force && !force) return cur.accessToken!; // someone already replaced the rejected token

    const now = this.now();
    if (!force && st.lastFailureAt !== undefined) {
      const nextAt = st.lastFailureAt + this.backoffMs(st.failures);
      if (now < nextAt) {
        // A refresh failed a moment ago: do not hammer the auth service; the old token serves
        // while it is still valid.
        if (cur.accessToken && cur.expiresAt !== undefined && cur.expiresAt > now) return cur.accessToken;
        throw this.failedRecently(st, now, nextAt, cur.accessToken !== undefined);
      }
    }
    // No caller signal on the shared refresh: one client disconnecting must not fail every waiter
    // (the refresh call has its own timeout in auth.ts).
    st.inflight = this.doRefresh(acct, st, cur, force).finally(() => {
      st.inflight = undefined;
    });
    return st.inflight;
  }

  /** Wait before the next unforced attempt after `failures` consecutive failed refreshes. */
  private backoffMs(failures: number): number {
    return Math.min(this.maxIntervalMs, this.minIntervalMs * 2 ** Math.max(0, failures - 1));
  }

  /** The error for a token that cannot be used now because its refresh failed recently: what, when, what next. */
  private failedRecently(st: AccountState, now: number, nextAt: number, hadToken: boolean): KiroError {
    const last = st.lastError!;
    const ago = Math.max(0, Math.round((now - st.lastFailureAt!) / 1000));
    const wait = Math.max(1, Math.ceil((nextAt - now) / 1000));
    const what = hadToken ? "the access token expired" : "no access token yet";
    const times = st.failures === 1 ? "the last token refresh" : `the last ${st.failures} token refreshes`;
    return new KiroError(last.cls, `${what} and ${times} failed (${ago} s ago: ${last.upstreamMessage}); next attempt in ${wait} s`, {
      status: last.status,
      reason: last.reason,
      retryAfterMs: last.retryAfterMs,
      cause: last,
    });
  }

  /** Forget cached state (account removed or re-imported). */
  forget(accountId: string): void {
    this.state.delete(accountId);
  }

  private async doRefresh(
    acct: TokenAccount,
    st: AccountState,
    cur: { accessToken?: string; expiresAt?: number; refreshToken: string },
    forced: boolean,
  ): Promise<string> {
    let result: RefreshResult;
    try {
      result = await this.refresh(
        {
          kind: acct.kind,
          refreshToken: cur.refreshToken,
          clientId: acct.clientId,
          clientSecret: acct.clientSecret,
          authRegion: acct.authRegion,
          machineId: acct.machineId,
          proxy: acct.proxy,
        },
        this.upstream,
      );
    } catch (err) {
      const kerr = err instanceof KiroError ? err : new KiroError("transient", String(err), { cause: err });
      st.failures++;
      st.lastFailureAt = this.now();
      st.lastError = kerr;
      // A transient failure keeps the old token until it really expires — unless the upstream
      // just told us that token is invalid (forced refresh).
      const stillValid = cur.accessToken && cur.expiresAt !== undefined && cur.expiresAt > this.now();
      if (kerr.cls !== "dead_refresh_token" && !forced && stillValid) return cur.accessToken!;
      throw kerr;
    }
    // Persist first: if storing the rotated refresh token fails, the new access token must not be
    // used, or the next refresh would present the already-invalidated old refresh token.
    await acct.persist(result);
    st.latest = { from: cur.refreshToken, result, obtainedAt: this.now() };
    st.failures = 0;
    st.lastFailureAt = undefined;
    st.lastError = undefined;
    // Used even when it is already short-lived: it is the newest token there is.
    return result.accessToken;
  }

  private stateOf(id: string): AccountState {
    let st = this.state.get(id);
    if (!st) {
      st = { failures: 0 };
      this.state.set(id, st);
    }
    return st;
  }

  /**
   * The freshest view of the account: our own last result wins while the caller's copy still
   * carries the refresh token we rotated away from (the caller may not have reloaded it yet).
   */
  private current(acct: TokenAccount): { accessToken?: string; expiresAt?: number; refreshToken: string } {
    const latest = this.state.get(acct.id)?.latest;
    if (latest && (acct.refreshToken === latest.from || acct.refreshToken === latest.result.refreshToken)) {
      if ((latest.result.expiresAt ?? 0) >= (acct.expiresAt ?? 0)) {
        return {
          accessToken: latest.result.accessToken,
          expiresAt: latest.result.expiresAt,
          refreshToken: latest.result.refreshToken ?? acct.refreshToken,
        };
      }
    }
    return { accessToken: acct.accessToken, expiresAt: acct.expiresAt, refreshToken: acct.refreshToken };
  }
}
