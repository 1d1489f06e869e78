/**
 * Per-account access-token cache with the OIDC `fromSso` policy (kiro-upstream.md §2.4):
 * refresh when < 5 min remain (or forced after a bearer-invalid answer, or no token), one
 * refresh in flight per account, ≥ 30 s between unforced attempts, keep a still-valid old token
 * when a refresh fails transiently, and persist a rotated refresh token BEFORE the new access
 * token is handed out — a lost rotation kills the account (§2.5).
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
  minAttemptIntervalMs?: number;
};

type AccountState = {
  inflight?: Promise<string>;
  lastAttemptAt?: number;
  lastError?: KiroError;
  /** Our newest result and the refresh token it was obtained with (to detect a stale caller copy). */
  latest?: { from: string; result: RefreshResult };
};

export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
export const MIN_ATTEMPT_INTERVAL_MS = 30 * 1000;

export class TokenManager {
  private readonly upstream: KiroUpstreamConfig;
  private readonly refresh: NonNullable<TokenManagerOptions["refresh"]>;
  private readonly now: () => number;
  private readonly marginMs: number;
  private readonly minIntervalMs: number;
  private readonly state = new Map<string, AccountState>();

  constructor(opts: TokenManagerOptions) {
    this.upstream = opts.upstream;
    this.refresh = opts.refresh ?? refreshAccessToken;
    this.now = opts.now ?? Date.now;
    this.marginMs = opts.refreshMarginMs ?? REFRESH_MARGIN_MS;
    this.minIntervalMs = opts.minAttemptIntervalMs ?? MIN_ATTEMPT_INTERVAL_MS;
  }

  /** True when the account has no token or less than `marginMs` of validity left. */
  needsRefresh(acct: Pick<TokenAccount, "id" | "accessToken" | "expiresAt" | "refreshToken">, marginMs = this.marginMs): boolean {
    const cur = this.current(acct as TokenAccount);
    if (!cur.accessToken || cur.expiresAt === undefined || !Number.isFinite(cur.expiresAt)) return true;
    return cur.expiresAt - this.now() < marginMs;
  }

  /**
   * A usable access token for the account. `force` after a bearer-invalid answer; pass the
   * rejected token as `rejectedToken` so concurrent 403s on the same stale token share one refresh.
   */
  async getAccessToken(acct: TokenAccount, opts: { force?: boolean; rejectedToken?: string } = {}): Promise<string> {
    const st = this.stateOf(acct.id);
    if (st.inflight) return st.inflight;
    const cur = this.current(acct);
    const force = opts.force === true && !(opts.rejectedToken && cur.accessToken && cur.accessToken !== opts.rejectedToken);
    if (!force && !this.needsRefresh(acct)) return cur.accessToken!;
    if (opts.force && !force) return cur.accessToken!; // someone already replaced the rejected token

    const now = this.now();
    if (!force && st.lastAttemptAt !== undefined && now - st.lastAttemptAt < this.minIntervalMs) {
      // Too soon to hammer the auth service again: use the old token while it still works.
      if (cur.accessToken && cur.expiresAt !== undefined && cur.expiresAt > now) return cur.accessToken;
      throw st.lastError ?? new KiroError("transient", "token refresh recently failed; retrying later");
    }
    // No caller signal on the shared refresh: one client disconnecting must not fail every waiter
    // (the refresh call has its own timeout in auth.ts).
    st.inflight = this.doRefresh(acct, st, cur, force).finally(() => {
      st.inflight = undefined;
    });
    return st.inflight;
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
    st.lastAttemptAt = this.now();
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
      st.lastError = kerr;
      // §2.4: a transient failure keeps the old token until it really expires — unless the
      // upstream just told us that token is invalid (forced refresh).
      const stillValid = cur.accessToken && cur.expiresAt !== undefined && cur.expiresAt > this.now();
      if (kerr.cls !== "dead_refresh_token" && !forced && stillValid) return cur.accessToken!;
      throw kerr;
    }
    // Persist first: if storing the rotated refresh token fails, the new access token must not be
    // used, or the next refresh would present the already-invalidated old refresh token.
    await acct.persist(result);
    st.latest = { from: cur.refreshToken, result };
    st.lastError = undefined;
    return result.accessToken;
  }

  private stateOf(id: string): AccountState {
    let st = this.state.get(id);
    if (!st) {
      st = {};
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
