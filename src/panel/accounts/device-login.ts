import type { KiroUpstreamConfig } from "../../kiro/config";
import { DEFAULT_OIDC_URL, withRegion } from "../../kiro/endpoints";
import type { AccountInput, UpsertResult } from "../../pool/types";
import { reasonText } from "../../pool/reasons";

/**
 * Sign-in to add an account: the OAuth 2.0 device authorization flow of AWS IAM Identity Center
 * (AWS Builder ID is its public start URL). Register a public client, start a device
 * authorization for the start URL, show the user code and the verification link, and poll the
 * token endpoint at the interval the service gives until it answers with tokens, a denial or the
 * code's expiry. The tokens and the client registration become an IdC account in the pool, whose
 * quota is then fetched so the new row shows its email, plan and credits at once.
 * The OIDC host is KIRO_OIDC_URL when set (tests point it at the fake), else the AWS regional one.
 */
export const BUILDER_ID_START_URL = "https://view.awsapps.com/start";
/** What the Kiro IDE asks for when it registers its client. */
export const KIRO_SCOPES = ["codewhisperer:completions", "codewhisperer:analysis", "codewhisperer:conversations", "codewhisperer:transformations", "codewhisperer:taskassist"];
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const CALL_TIMEOUT_MS = 15_000;
/** RFC 8628: on slow_down the interval grows by 5 seconds. */
const SLOW_DOWN_S = 5;
const MAX_FLOWS = 20;

export type DeviceFlowState = "pending" | "approved" | "denied" | "expired" | "failed" | "cancelled";
export type DeviceFlow = {
  id: string;
  kind: "builder-id" | "idc";
  startUrl: string;
  region: string;
  state: DeviceFlowState;
  userCode?: string;
  verificationUri?: string;
  verificationUriComplete?: string;
  expiresAt?: number;
  intervalS?: number;
  /** The account made from the tokens (state "approved"). */
  accountId?: string;
  outcome?: UpsertResult["outcome"];
  /** Why it failed, in the service's or the pool's words (state "failed"). */
  error?: string;
  /** The quota check after the account was added failed (the account is there all the same). */
  quotaError?: string;
  startedAt: number;
};

/** The pool's public methods the flow needs. */
export type DevicePool = {
  upsert(input: AccountInput): Promise<UpsertResult>;
  checkQuota(id: string): Promise<unknown>;
};

type Deps = { upstream: KiroUpstreamConfig; pool: DevicePool; log: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void } };

/** An OIDC error answer: `{error, error_description}` plus the exception name in x-amzn-errortype. */
export class OidcError extends Error {
  constructor(readonly status: number, readonly code: string, readonly type: string, description: string) {
    super(description || code || `HTTP ${status}`);
  }
}

async function call(url: string, body: unknown, proxy: string | undefined, signal: AbortSignal): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "kiro-server device-login" },
    body: JSON.stringify(body),
    signal: AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
    ...(proxy ? { proxy } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try { json = text ? JSON.parse(text) : {}; } catch { /* described below */ }
  if (res.status !== 200) {
    const type = (res.headers.get("x-amzn-errortype") ?? "").split(":")[0] ?? "";
    throw new OidcError(res.status, String(json.error ?? ""), type, String(json.error_description ?? json.message ?? text.slice(0, 200)));
  }
  return json;
}

const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export class DeviceLogins {
  private readonly flows = new Map<string, DeviceFlow>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly d: Deps, private readonly now: () => number = Date.now) {}

  private base(region: string): string {
    return withRegion(this.d.upstream.oidcUrl ?? DEFAULT_OIDC_URL, region);
  }

  /** Registers a client and starts a device authorization; resolves once the code can be shown. */
  async start(opts: { kind: "builder-id" | "idc"; startUrl?: string; region: string }): Promise<DeviceFlow> {
    this.trim();
    const flow: DeviceFlow = {
      id: crypto.randomUUID(), kind: opts.kind, region: opts.region, state: "pending", startedAt: this.now(),
      startUrl: opts.kind === "builder-id" ? BUILDER_ID_START_URL : (opts.startUrl ?? ""),
    };
    this.flows.set(flow.id, flow);
    const abort = new AbortController();
    this.aborts.set(flow.id, abort);
    const base = this.base(flow.region);
    try {
      const reg = await call(`${base}/client/register`, { clientName: "kiro-server", clientType: "public", scopes: KIRO_SCOPES }, this.d.upstream.proxy, abort.signal);
      const clientId = str(reg.clientId);
      const clientSecret = str(reg.clientSecret);
      if (!clientId || !clientSecret) throw new Error("the client registration came back without clientId/clientSecret");
      const auth = await call(`${base}/device_authorization`, { clientId, clientSecret, startUrl: flow.startUrl }, this.d.upstream.proxy, abort.signal);
      const deviceCode = str(auth.deviceCode);
      flow.userCode = str(auth.userCode);
      flow.verificationUri = str(auth.verificationUri);
      flow.verificationUriComplete = str(auth.verificationUriComplete) ?? flow.verificationUri;
      const expiresIn = num(auth.expiresIn);
      if (!deviceCode || !flow.userCode || !flow.verificationUri || !expiresIn) throw new Error("the device authorization came back incomplete");
      flow.expiresAt = this.now() + expiresIn * 1000;
      flow.intervalS = Math.max(1, num(auth.interval) ?? 5);
      this.d.log.info("device login started", { flow: flow.id, kind: flow.kind, region: flow.region });
      this.schedule(flow, { clientId, clientSecret, deviceCode });
    } catch (e) {
      this.finish(flow, "failed", e instanceof Error ? e.message : String(e));
    }
    return flow;
  }

  get(id: string): DeviceFlow | undefined {
    return this.flows.get(id);
  }

  cancel(id: string): DeviceFlow | undefined {
    const flow = this.flows.get(id);
    if (flow?.state === "pending") this.finish(flow, "cancelled");
    return flow;
  }

  /** Stops every running flow (server shutdown). */
  close(): void {
    for (const flow of this.flows.values()) if (flow.state === "pending") this.finish(flow, "cancelled");
  }

  private schedule(flow: DeviceFlow, client: { clientId: string; clientSecret: string; deviceCode: string }): void {
    // A little past the interval, so a timer firing early never polls too soon.
    const timer = setTimeout(() => void this.poll(flow, client), flow.intervalS! * 1000 + 50);
    this.timers.set(flow.id, timer);
  }

  private async poll(flow: DeviceFlow, client: { clientId: string; clientSecret: string; deviceCode: string }): Promise<void> {
    this.timers.delete(flow.id);
    if (flow.state !== "pending") return;
    if (this.now() >= flow.expiresAt!) return this.finish(flow, "expired");
    const signal = this.aborts.get(flow.id)!.signal;
    let tokens: Record<string, unknown>;
    try {
      tokens = await call(`${this.base(flow.region)}/token`, { ...client, grantType: DEVICE_GRANT }, this.d.upstream.proxy, signal);
    } catch (e) {
      if (flow.state !== "pending") return;
      const code = e instanceof OidcError ? e.code || e.type : "";
      if (code === "authorization_pending" || code === "AuthorizationPendingException") return this.schedule(flow, client);
      if (code === "slow_down" || code === "SlowDownException") {
        flow.intervalS! += SLOW_DOWN_S;
        return this.schedule(flow, client);
      }
      if (code === "access_denied" || code === "AccessDeniedException") return this.finish(flow, "denied");
      if (code === "expired_token" || code === "ExpiredTokenException") return this.finish(flow, "expired");
      return this.finish(flow, "failed", e instanceof Error ? e.message : String(e));
    }
    await this.adopt(flow, client, tokens);
  }

  /** Tokens in hand: store the account with its client registration, then fetch its quota. */
  private async adopt(flow: DeviceFlow, client: { clientId: string; clientSecret: string }, tokens: Record<string, unknown>): Promise<void> {
    const refreshToken = str(tokens.refreshToken);
    if (!refreshToken) return this.finish(flow, "failed", reasonText("device.noRefreshToken"));
    const expiresIn = num(tokens.expiresIn);
    try {
      const r = await this.d.pool.upsert({
        kind: "idc", refreshToken, clientId: client.clientId, clientSecret: client.clientSecret,
        authRegion: flow.region, source: "device-login",
        accessToken: str(tokens.accessToken), expiresAt: expiresIn ? this.now() + expiresIn * 1000 : undefined,
      });
      if (r.outcome === "skipped") return this.finish(flow, "failed", r.why ?? reasonText("upsert.notTaken"));
      flow.accountId = r.id;
      flow.outcome = r.outcome;
      try {
        await this.d.pool.checkQuota(r.id);
      } catch (e) {
        flow.quotaError = e instanceof Error ? e.message : String(e);
      }
      this.d.log.info("device login added an account", { flow: flow.id, accountId: r.id, outcome: r.outcome });
      this.finish(flow, "approved");
    } catch (e) {
      this.finish(flow, "failed", e instanceof Error ? e.message : String(e));
    }
  }

  private finish(flow: DeviceFlow, state: DeviceFlowState, error?: string): void {
    if (flow.state !== "pending") return;
    flow.state = state;
    if (error) flow.error = error;
    const timer = this.timers.get(flow.id);
    if (timer) clearTimeout(timer);
    this.timers.delete(flow.id);
    this.aborts.get(flow.id)?.abort();
    this.aborts.delete(flow.id);
    if (state !== "approved") this.d.log.warn(`device login ${state}`, { flow: flow.id, ...(error ? { error } : {}) });
  }

  /** Keeps the newest flows; finished ones beyond MAX_FLOWS are forgotten. */
  private trim(): void {
    if (this.flows.size < MAX_FLOWS) return;
    for (const [id, f] of this.flows) {
      if (this.flows.size < MAX_FLOWS) break;
      if (f.state !== "pending") this.flows.delete(id);
    }
  }
}
