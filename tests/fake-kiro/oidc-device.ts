/**
 * The fake's OAuth 2.0 device authorization flow of AWS IAM Identity Center OIDC (AWS Builder ID
 * is the same service behind the start URL https://view.awsapps.com/start), as the AWS SDK's
 * SSO-OIDC client speaks it: JSON bodies with camelCase fields, errors as
 * `{error, error_description}` with the exception name in `x-amzn-errortype`.
 *
 *   POST /client/register        {clientName, clientType: "public", scopes?}
 *                                → {clientId, clientSecret, clientIdIssuedAt, clientSecretExpiresAt}
 *   POST /device_authorization   {clientId, clientSecret, startUrl}
 *                                → {deviceCode, userCode, verificationUri, verificationUriComplete, expiresIn, interval}
 *   POST /token                  {clientId, clientSecret, grantType: "urn:ietf:params:oauth:grant-type:device_code", deviceCode}
 *                                → 400 authorization_pending until approved; slow_down when polled
 *                                  before `interval` seconds passed; access_denied; expired_token
 *                                  after expiresIn; invalid_grant for an unknown or used code;
 *                                  then 200 {accessToken, tokenType, expiresIn, refreshToken, idToken}
 *                                  once, and the account exists in the fake (an IdC account bound to
 *                                  the registered client, so its refresh works like any other).
 * Other grant types on /token fall through to the refresh-token handler in server.ts.
 * Tests drive the person at the browser: `approve(userCode, {email})`, `deny(userCode)`.
 */
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const BUILDER_ID_START_URL = "https://view.awsapps.com/start";

export type DeviceAccount = { refreshToken: string; kind: "idc"; clientId: string; clientSecret: string; email?: string; profileArn?: string | null; quota?: { used?: number; limit?: number; subscriptionTitle?: string } };

export type OidcDeviceDeps = {
  /** Creates the account in the fake once the user approved. */
  addAccount(a: DeviceAccount): unknown;
  /** Issues an access token for a refresh token the fake knows. */
  issueAccess(refreshToken: string): { accessToken: string; expiresIn: number };
  token(prefix: string, len: number): string;
};

export type OidcDeviceOptions = { expiresInSec?: number; intervalSec?: number };

type Client = { clientId: string; clientSecret: string; name: string; scopes: string[] };
type Grant = {
  deviceCode: string; userCode: string; client: Client; startUrl: string; expiresAt: number; intervalMs: number;
  lastPollAt?: number; state: "pending" | "approved" | "denied" | "used"; account?: { email?: string; quota?: DeviceAccount["quota"] };
};

export type OidcDevice = {
  /** Answers device-flow calls; undefined for anything else (the caller goes on). */
  handle(path: string, body: unknown): Response | undefined;
  /** The person signs in and allows the request shown with `userCode`. */
  approve(userCode: string, account?: { email?: string; quota?: DeviceAccount["quota"] }): void;
  deny(userCode: string): void;
  /** Codes waiting for the person, newest last. */
  pending(): Array<{ userCode: string; startUrl: string; clientName: string }>;
  /** Change the lifetime and polling interval handed out from now on. */
  configure(o: OidcDeviceOptions): void;
  readonly polls: number;
  reset(): void;
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const oidcError = (status: number, name: string, error: string, desc: string) =>
  json(status, { error, error_description: desc }, { "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/` });

const str = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** Eight letters in two groups of four, without look-alike letters, like the real codes. */
function userCode(): string {
  const letters = "BCDFGHJKLMNPQRSTVWXZ";
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const s = [...bytes].map((b) => letters[b % letters.length]).join("");
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

export function createOidcDevice(baseUrl: string, deps: OidcDeviceDeps, opts: OidcDeviceOptions = {}): OidcDevice {
  const clients = new Map<string, Client>();
  const grants = new Map<string, Grant>();
  let expiresInSec = opts.expiresInSec ?? 600;
  let intervalSec = opts.intervalSec ?? 1;
  let polls = 0;

  function register(b: Record<string, unknown>): Response {
    if (!str(b.clientName)) return oidcError(400, "InvalidRequestException", "invalid_request", "clientName is required");
    if (b.clientType !== "public") return oidcError(400, "InvalidClientMetadataException", "invalid_client_metadata", "Invalid client type");
    if (b.scopes !== undefined && !(Array.isArray(b.scopes) && b.scopes.every(str))) return oidcError(400, "InvalidScopeException", "invalid_scope", "Invalid scopes");
    const client: Client = { clientId: deps.token("cid", 22), clientSecret: deps.token("csec", 60), name: b.clientName, scopes: (b.scopes as string[] | undefined) ?? [] };
    clients.set(client.clientId, client);
    const now = Math.floor(Date.now() / 1000);
    return json(200, { clientId: client.clientId, clientSecret: client.clientSecret, clientIdIssuedAt: now, clientSecretExpiresAt: now + 90 * 86400 });
  }

  function clientOf(b: Record<string, unknown>): Client | Response {
    const c = str(b.clientId) ? clients.get(b.clientId) : undefined;
    if (!c || b.clientSecret !== c.clientSecret) return oidcError(401, "InvalidClientException", "invalid_client", "Client authentication failed");
    return c;
  }

  function authorize(b: Record<string, unknown>): Response {
    const c = clientOf(b);
    if (c instanceof Response) return c;
    if (!str(b.startUrl)) return oidcError(400, "InvalidRequestException", "invalid_request", "startUrl is required");
    let url: URL;
    try { url = new URL(b.startUrl); } catch { return oidcError(400, "InvalidRequestException", "invalid_request", "Invalid start URL"); }
    if (url.protocol !== "https:") return oidcError(400, "InvalidRequestException", "invalid_request", "Invalid start URL");
    const g: Grant = {
      deviceCode: deps.token("dc", 40), userCode: userCode(), client: c, startUrl: b.startUrl,
      expiresAt: Date.now() + expiresInSec * 1000, intervalMs: intervalSec * 1000, state: "pending",
    };
    grants.set(g.deviceCode, g);
    const verificationUri = `${baseUrl}/device`;
    return json(200, {
      deviceCode: g.deviceCode, userCode: g.userCode, verificationUri,
      verificationUriComplete: `${verificationUri}?user_code=${g.userCode}`, expiresIn: expiresInSec, interval: intervalSec,
    });
  }

  function token(b: Record<string, unknown>): Response {
    const c = clientOf(b);
    if (c instanceof Response) return c;
    polls++;
    const g = str(b.deviceCode) ? grants.get(b.deviceCode) : undefined;
    if (!g || g.client.clientId !== c.clientId || g.state === "used") return oidcError(400, "InvalidGrantException", "invalid_grant", "Invalid grant provided");
    const now = Date.now();
    if (now >= g.expiresAt) return oidcError(400, "ExpiredTokenException", "expired_token", "Device code has expired");
    if (g.lastPollAt !== undefined && now - g.lastPollAt < g.intervalMs) {
      g.lastPollAt = now;
      return oidcError(400, "SlowDownException", "slow_down", "Client is polling too quickly");
    }
    g.lastPollAt = now;
    if (g.state === "denied") return oidcError(400, "AccessDeniedException", "access_denied", "Authorization denied by user");
    if (g.state === "pending") return oidcError(400, "AuthorizationPendingException", "authorization_pending", "Authorization is still pending");
    g.state = "used";
    const refreshToken = deps.token("aorA", 180);
    deps.addAccount({
      refreshToken, kind: "idc", clientId: c.clientId, clientSecret: c.clientSecret, email: g.account?.email, quota: g.account?.quota,
      // Builder ID users have no Kiro profile; an organisation's start URL comes with one (the fake's default).
      ...(g.startUrl === BUILDER_ID_START_URL ? { profileArn: null } : {}),
    });
    const { accessToken, expiresIn } = deps.issueAccess(refreshToken);
    return json(200, { accessToken, tokenType: "Bearer", expiresIn, refreshToken, idToken: deps.token("eyJ", 40) });
  }

  const byUserCode = (code: string) => {
    for (const g of grants.values()) if (g.userCode === code && g.state === "pending") return g;
    throw new Error(`fake-kiro: no pending device authorization with user code ${code}`);
  };

  return {
    handle(path, body) {
      const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
      if (path === "/client/register") return register(b);
      if (path === "/device_authorization") return authorize(b);
      if (path === "/token" && b.grantType === DEVICE_GRANT) return token(b);
      return undefined;
    },
    approve(code, account) {
      const g = byUserCode(code);
      g.state = "approved";
      g.account = account;
    },
    deny(code) {
      byUserCode(code).state = "denied";
    },
    pending() {
      return [...grants.values()].filter((g) => g.state === "pending" && Date.now() < g.expiresAt)
        .map((g) => ({ userCode: g.userCode, startUrl: g.startUrl, clientName: g.client.name }));
    },
    configure(o) {
      if (o.expiresInSec !== undefined) expiresInSec = o.expiresInSec;
      if (o.intervalSec !== undefined) intervalSec = o.intervalSec;
    },
    get polls() {
      return polls;
    },
    reset() {
      clients.clear();
      grants.clear();
      polls = 0;
    },
  };
}
