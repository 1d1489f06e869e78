/**
 * The fake's accounts: what a test declares (FakeAccountInit → FakeAccount), and the book one
 * fake keeps of them: the access tokens it issued, refresh-token rotation, the bearer check every
 * authenticated call starts with, and the two refresh endpoints (social POST /refreshToken, IdC
 * OIDC CreateToken POST /token with grantType refresh_token).
 */
import type { AbuseBehaviour } from "./abuse";
import type { FakeMcpBehaviour } from "./mcp";
import type { Scenario } from "./scenarios";
import type { FakeQuota } from "./side-calls";
import { json } from "./responses";

export type FakeBehaviour = AbuseBehaviour & {
  dead?: boolean;
  suspended?: boolean;
  quota?: boolean;
  throttleCalls?: number;
  retryAfterSec?: number;
  capacityCalls?: number;
  transient500Calls?: number;
  slowFirstByteMs?: number;
  inputTooLong?: boolean;
  /** Request bodies larger than this → 400 CONTENT_LENGTH_EXCEEDS_THRESHOLD. */
  maxBodyBytes?: number;
};

export type FakeAccountInit = {
  refreshToken: string;
  kind?: "social" | "idc" | "api_key";
  clientId?: string;
  clientSecret?: string;
  email?: string;
  /** Upstream model ids ListAvailableModels reports for this account (default: all). */
  models?: string[];
  behaviour?: FakeBehaviour;
  /** Lifetime of issued access tokens (default 3600 s). */
  accessTokenTtlSec?: number;
  /** Issue a new refresh token on every refresh and invalidate the old one (default true). */
  rotateRefreshToken?: boolean;
  quota?: FakeQuota;
  /** Social default: the ARN the real social refresh returns (profile EHGA3GRVQMUK); IdC default: a fake enterprise profile; null = none (Builder ID). */
  profileArn?: string | null;
  /** MCP (web search) behaviour; default: the plan includes web search. */
  mcp?: FakeMcpBehaviour;
};

export type FakeAccount = {
  /** The refresh token the account was added with: its identity in enqueue() and recordings. */
  readonly refreshToken: string;
  /** The refresh token that currently works (changes on rotation). */
  readonly currentRefreshToken: string;
  /** Last access token issued (undefined before the first refresh; the key itself for api_key). */
  readonly accessToken?: string;
  readonly kind: "social" | "idc" | "api_key";
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly email: string;
  readonly profileArn?: string;
  behaviour: FakeBehaviour;
  quota: FakeQuota;
  mcp: FakeMcpBehaviour;
  /** Chat calls that reached this account (after the bearer check). */
  readonly chatCalls: number;
  /** Make every access token issued so far expire now. */
  expireAccessTokens(): void;
};

/** The fake's side of an account: the public view plus what only the fake sees. */
export type AccountState = {
  init: FakeAccountInit;
  pub: FakeAccount;
  currentRefresh: string;
  lastAccess?: string;
  chatCalls: number;
  queue: Scenario[];
};

export type RefreshCall = { refreshToken: string; at: number; kind: "social" | "idc" };

/** What the book reads from a recorded request (body, time) and fills in (the account it came from). */
export type Attributed = { body: unknown; at: number; accountRefreshToken?: string };

export type AccountBook = {
  /** By the refresh token the account was added with. */
  readonly accounts: Map<string, AccountState>;
  /** By the refresh tokens that currently work. */
  readonly byRefresh: Map<string, AccountState>;
  addAccount(a: FakeAccountInit): FakeAccount;
  issueAccess(st: AccountState): { accessToken: string; expiresIn: number };
  /** The account behind the request's bearer, or the real 403 for an unknown or expired one. */
  bearer(req: Request, rec: Attributed): AccountState | Response;
  socialRefresh(rec: Attributed): Response;
  idcRefresh(rec: Attributed): Response;
  /** Forget every account and token. */
  clear(): void;
};

const SOCIAL_ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK";
const IDC_ARN = "arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEIDCPROFILE";
const BEARER_INVALID = "The bearer token included in the request is invalid.";

export function token(prefix: string, len: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(len));
  return prefix + Buffer.from(bytes).toString("base64url").slice(0, len);
}

/** A fresh book; every refresh request it answers is appended to `refreshCalls`. */
export function createAccountBook(refreshCalls: RefreshCall[]): AccountBook {
  const accounts = new Map<string, AccountState>(); // by original refresh token
  const byRefresh = new Map<string, AccountState>(); // currently valid refresh tokens
  const byAccess = new Map<string, { acct: AccountState; expiresAt: number }>();

  function issueAccess(st: AccountState): { accessToken: string; expiresIn: number } {
    const expiresIn = st.init.accessTokenTtlSec ?? 3600;
    const accessToken = token("aoaA", 160);
    byAccess.set(accessToken, { acct: st, expiresAt: Date.now() + expiresIn * 1000 });
    st.lastAccess = accessToken;
    return { accessToken, expiresIn };
  }

  function rotate(st: AccountState): string {
    if (st.init.rotateRefreshToken === false) return st.currentRefresh;
    byRefresh.delete(st.currentRefresh);
    st.currentRefresh = token("aorA", 180);
    byRefresh.set(st.currentRefresh, st);
    return st.currentRefresh;
  }

  function addAccount(a: FakeAccountInit): FakeAccount {
    const kind = a.kind ?? "social";
    const st = {
      init: { ...a },
      currentRefresh: a.refreshToken,
      chatCalls: 0,
      queue: [],
    } as unknown as AccountState;
    const clientId = a.clientId ?? (kind === "idc" ? token("cid", 22) : undefined);
    const clientSecret = a.clientSecret ?? (kind === "idc" ? token("csec", 60) : undefined);
    st.init.clientId = clientId;
    st.init.clientSecret = clientSecret;
    const profileArn =
      a.profileArn === null ? undefined : (a.profileArn ?? (kind === "idc" ? IDC_ARN : kind === "social" ? SOCIAL_ARN : undefined));
    st.pub = {
      refreshToken: a.refreshToken,
      get currentRefreshToken() {
        return st.currentRefresh;
      },
      get accessToken() {
        return st.lastAccess;
      },
      kind,
      clientId,
      clientSecret,
      email: a.email ?? `user-${accounts.size + 1}@example.com`,
      profileArn,
      behaviour: a.behaviour ?? {},
      quota: a.quota ?? {},
      mcp: a.mcp ?? {},
      get chatCalls() {
        return st.chatCalls;
      },
      expireAccessTokens() {
        for (const v of byAccess.values()) if (v.acct === st) v.expiresAt = 0;
      },
    };
    accounts.set(a.refreshToken, st);
    byRefresh.set(a.refreshToken, st);
    if (kind === "api_key") {
      // API keys are bearers themselves and never expire.
      byAccess.set(a.refreshToken, { acct: st, expiresAt: Number.POSITIVE_INFINITY });
      st.lastAccess = a.refreshToken;
    }
    return st.pub;
  }

  function bearer(req: Request, rec: Attributed): AccountState | Response {
    const auth = req.headers.get("authorization") ?? "";
    const tok = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    const hit = byAccess.get(tok);
    if (!hit || hit.expiresAt <= Date.now()) {
      // The real answer has no name, no __type and reason null (the expired-token 403).
      return json(403, { message: BEARER_INVALID, reason: null });
    }
    rec.accountRefreshToken = hit.acct.init.refreshToken;
    return hit.acct;
  }

  function socialRefresh(rec: Attributed): Response {
    const rt = (rec.body as any)?.refreshToken;
    if (typeof rt !== "string" || !rt) return json(400, { message: "refreshToken is required" });
    refreshCalls.push({ refreshToken: rt, at: rec.at, kind: "social" });
    const st = byRefresh.get(rt);
    if (st) rec.accountRefreshToken = st.init.refreshToken;
    if (!st || st.pub.kind !== "social" || st.pub.behaviour.dead) return json(401, { message: "Bad credentials" });
    const { accessToken, expiresIn } = issueAccess(st);
    const refreshToken = rotate(st);
    return json(200, { accessToken, refreshToken, profileArn: st.pub.profileArn, expiresIn });
  }

  function idcRefresh(rec: Attributed): Response {
    const b = (rec.body ?? {}) as Record<string, unknown>;
    const oidcError = (status: number, name: string, error: string, desc: string) =>
      json(status, { error, error_description: desc }, { "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/` });
    if (b.grantType !== "refresh_token") return oidcError(400, "UnsupportedGrantTypeException", "unsupported_grant_type", "Unsupported grant type");
    const rt = typeof b.refreshToken === "string" ? b.refreshToken : "";
    refreshCalls.push({ refreshToken: rt, at: rec.at, kind: "idc" });
    const st = byRefresh.get(rt);
    if (st) rec.accountRefreshToken = st.init.refreshToken;
    if (st && (b.clientId !== st.pub.clientId || b.clientSecret !== st.pub.clientSecret)) {
      return oidcError(401, "InvalidClientException", "invalid_client", "Client authentication failed");
    }
    if (!st || st.pub.kind !== "idc" || st.pub.behaviour.dead) {
      return oidcError(400, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided");
    }
    const { accessToken, expiresIn } = issueAccess(st);
    const refreshToken = rotate(st);
    return json(200, { accessToken, tokenType: "Bearer", expiresIn, refreshToken, idToken: token("eyJ", 40) });
  }

  return {
    accounts,
    byRefresh,
    addAccount,
    issueAccess,
    bearer,
    socialRefresh,
    idcRefresh,
    clear() {
      accounts.clear();
      byRefresh.clear();
      byAccess.clear();
    },
  };
}
