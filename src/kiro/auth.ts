/**
 * Access-token refresh: social logins through Kiro's desktop auth service, IdC through AWS SSO OIDC;
 * API keys never refresh (docs/upstream.md, Authentication and refresh).
 *
 * IdC uses a direct fetch that matches @aws-sdk/client-sso-oidc's CreateToken wire format
 * (restJson1, camelCase JSON body, no Authorization) instead of the SDK client, because the SDK
 * (a) retries internally up to 3 times, which fights the token manager's single-attempt /
 * ≥ 30 s policy, (b) sends through its node-http-handler so Bun's per-request `proxy` option
 * and our one classification path (http.ts) would not apply, and (c) wraps errors in its own
 * exception classes we would have to unpack again for the refresh-endpoint rules of the error table (docs/errors.md).
 */
import { proxyFor, type KiroUpstreamConfig } from "./config";
import { oidcTokenUrl, socialRefreshUrl } from "./endpoints";
import { KiroError } from "./errors";
import { classifyResponse, upstreamFetch } from "./http";

export type KiroAuthKind = "social" | "idc" | "api_key";

export type RefreshInput = {
  kind: KiroAuthKind;
  refreshToken: string;
  clientId?: string;
  clientSecret?: string;
  authRegion: string;
  machineId: string;
  /** The account's own upstream proxy; wins over the process-wide one (upstream.proxy). */
  proxy?: string;
};

export type RefreshResult = {
  accessToken: string;
  /** Present when the service rotated the refresh token: must be persisted, or the account dies with the old one. */
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt: number;
  profileArn?: string;
};

export const KIRO_IDE_VERSION = "0.11.107";
const OIDC_SDK_VERSION = "3.980.0";
const DEFAULT_EXPIRES_IN_SEC = 3600;
/** API keys are bearers themselves; "far" expiry keeps the token manager from ever refreshing. */
const API_KEY_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;
const REFRESH_TIMEOUT_MS = 30_000;

export async function refreshAccessToken(
  input: RefreshInput,
  upstream: KiroUpstreamConfig,
  signal?: AbortSignal,
): Promise<RefreshResult> {
  if (input.kind === "api_key") {
    return { accessToken: input.refreshToken, expiresAt: Date.now() + API_KEY_LIFETIME_MS };
  }
  return input.kind === "idc" ? refreshIdc(input, upstream, signal) : refreshSocial(input, upstream, signal);
}

async function refreshSocial(input: RefreshInput, upstream: KiroUpstreamConfig, signal?: AbortSignal) {
  // The Kiro IDE's header set (as kiro.rs sends it): the endpoint is not known to check them.
  const res = await upstreamFetch(socialRefreshUrl(upstream, input.authRegion), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/plain, */*",
      "user-agent": `KiroIDE-${KIRO_IDE_VERSION}-${input.machineId}`,
      "accept-encoding": "gzip, compress, deflate, br",
      connection: "close",
    },
    body: JSON.stringify({ refreshToken: input.refreshToken }),
    proxy: proxyFor(input.proxy, upstream),
    signal,
    timeoutMs: REFRESH_TIMEOUT_MS,
    source: "refresh",
    slots: upstream.slots,
  });
  return readResult(res);
}

async function refreshIdc(input: RefreshInput, upstream: KiroUpstreamConfig, signal?: AbortSignal) {
  if (!input.clientId || !input.clientSecret) {
    // Without a client registration the token can never be refreshed: same outcome as a dead one.
    throw new KiroError("dead_refresh_token", "IdC account has no clientId/clientSecret");
  }
  const res = await upstreamFetch(oidcTokenUrl(upstream, input.authRegion), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-amz-user-agent": `aws-sdk-js/${OIDC_SDK_VERSION} KiroIDE`,
      "user-agent": `aws-sdk-js/${OIDC_SDK_VERSION} ua/2.1 os/${process.platform} lang/js md/nodejs#${process.versions.node} api/sso-oidc#${OIDC_SDK_VERSION} m/E KiroIDE`,
      "amz-sdk-invocation-id": crypto.randomUUID(),
      "amz-sdk-request": "attempt=1; max=1",
    },
    body: JSON.stringify({
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      grantType: "refresh_token",
      refreshToken: input.refreshToken,
    }),
    proxy: proxyFor(input.proxy, upstream),
    signal,
    timeoutMs: REFRESH_TIMEOUT_MS,
    source: "refresh",
    slots: upstream.slots,
  });
  return readResult(res);
}

async function readResult(res: Response): Promise<RefreshResult> {
  if (res.status !== 200) throw await classifyResponse(res, "refresh");
  let json: Record<string, unknown>;
  try {
    json = (await res.json()) as Record<string, unknown>;
  } catch (err) {
    throw new KiroError("transient", "refresh answer is not JSON", { status: res.status, cause: err });
  }
  const accessToken = typeof json.accessToken === "string" ? json.accessToken : undefined;
  if (!accessToken) throw new KiroError("transient", "refresh answer has no accessToken", { status: res.status });
  const expiresIn = typeof json.expiresIn === "number" && json.expiresIn > 0 ? json.expiresIn : DEFAULT_EXPIRES_IN_SEC;
  return {
    accessToken,
    refreshToken: typeof json.refreshToken === "string" && json.refreshToken ? json.refreshToken : undefined,
    expiresAt: Date.now() + expiresIn * 1000,
    profileArn: typeof json.profileArn === "string" && json.profileArn ? json.profileArn : undefined,
  };
}
