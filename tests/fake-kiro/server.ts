/**
 * THE fake Kiro upstream (the protocol of docs/upstream.md). Strict on purpose: tests that
 * pass against it should pass against the real service.
 *
 *   const fake = await startFakeKiro({port?});
 *   const upstream: KiroUpstreamConfig = {...fake.upstream};          // apiUrl/authUrl/oidcUrl/region
 *   const acct = fake.addAccount({refreshToken, kind: "social" | "idc" | "api_key", behaviour, ...});
 *   fake.enqueue(scenario, acct.refreshToken?);  fake.setDefaultScenario(s);
 *   fake.requests / fake.refreshCalls / fake.aborts;  fake.reset();  await fake.stop();
 *
 * Routes (all on one host; any family template pointed here works):
 *   POST /refreshToken                 social refresh {refreshToken} → {accessToken, refreshToken, profileArn, expiresIn}
 *   POST /token                        IdC OIDC CreateToken (camelCase JSON, grantType refresh_token)
 *   POST /client/register, /device_authorization, /token (device_code grant): the device sign-in
 *                                      flow, in oidc-device.ts (driven through fake.oidcDevice)
 *   POST /generateAssistantResponse    restJson chat (event stream)
 *   POST /  x-amz-target: AmazonCodeWhispererStreamingService.GenerateAssistantResponse   awsJson chat
 *   POST /  x-amz-target: AmazonCodeWhispererService.{GetUsageLimits,ListAvailableModels,ListAvailableProfiles}
 *   GET  /getUsageLimits?…             GET /ListAvailableModels?…      POST /ListAvailableProfiles, /listAvailableProfiles
 *   POST /mcp                          MCP JSON-RPC (tools/list, tools/call web_search): see mcp.ts
 *   anything else                      404 ResourceNotFoundException (unknown operation) — lets tests
 *                                      point a family at `${fake.url}/gone` to simulate a retired host.
 *
 * Chat: unknown/expired bearer → the real nameless 403 "The bearer token included in the request
 * is invalid."; family A mode (`/family-a/…` prefix or requireProfileArn) → 400 "profileArn is
 * required for this request" when the body has none; per-account behaviours; 403
 * AccessDeniedException for `workspaceId` / `customizationArn` (UNAUTHORIZED_* reasons) or a
 * `profileArn` that is not the account's own (profile-less accounts accept none); body checked by
 * validateGenerateAssistantRequest (400 ValidationException + reason, worded like the service:
 * INVALID_MODEL_ID "Invalid model. Please select a different model.", CONTENT_LENGTH_EXCEEDS_THRESHOLD
 * "Input is too long.", else "Improperly formed request."); then the scenario: `[[fake:NAME]]` directive in the
 * current user message > the account's queue > the global queue > the default scenario > an echo
 * ("Fake Kiro says: <last user text>").
 *
 * Model lists and per-account plans: models.ts (chat refuses a model the account's list lacks
 * with 400 INVALID_MODEL_ID). More directives (truncated tool calls, model echo): directives.ts;
 * conversation-wide ones: web-answer.ts (`[[fake:web_answer]]`), web-fetch.ts (`[[fake:web_fetch]]`).
 *
 * Directive names (`[[fake:NAME]]` anywhere in the current user message text):
 *   text            short plain answer ("Hello from fake Kiro.")
 *   tools           one call of the first declared tool with its required fields filled in
 *   parallel_tools  two interleaved calls of the first declared tool(s)
 *   thinking        `<thinking>…</thinking>` tags inside text deltas
 *   reasoning       native reasoningContentEvent deltas + signature, then text
 *   long            400 text deltas; `[[fake:long:N]]` sends N
 *   usage           text + metadataEvent tokenUsage + metering + context usage
 *   exception       text then a ThrottlingException frame
 *   error_frame     text then an `error` frame
 *   content_length  text then ContentLengthExceededException (→ max_tokens)
 *   stall           slow first frame (1.5 s) and pauses between frames
 *   abrupt          body ends in the middle of a frame
 *   bad_crc         a frame with a corrupt CRC
 *
 * Behaviours (FakeBehaviour, mutable at any time via account.behaviour):
 *   dead              refresh → IdC 400 invalid_grant / social 401 "Bad credentials"
 *   suspended         chat → 403 AccessDeniedException TEMPORARILY_SUSPENDED
 *   quota             chat → 402 ServiceQuotaExceededException MONTHLY_REQUEST_COUNT
 *   throttleCalls     next N chat calls → 429 ThrottlingException, Retry-After: retryAfterSec (default 7)
 *   capacityCalls     next N chat calls → 429 INSUFFICIENT_MODEL_CAPACITY (Infinity = always)
 *   transient500Calls next N chat calls → 500 InternalServerException
 *   slowFirstByteMs   delay before the chat answer (headers included)
 *   inputTooLong      chat → 400 CONTENT_LENGTH_EXCEEDS_THRESHOLD (also: body > maxBodyBytes)
 *   abuse*            the "suspicious activity" 429, on demand or past a rate (abuse.ts)
 */
import { scenarioStream, type Scenario } from "./scenarios";
import { createOidcDevice, type OidcDevice } from "./oidc-device";
import {
  abruptCloseScenario,
  badCrcScenario,
  contentLengthScenario,
  errorFrameScenario,
  exceptionScenario,
  longScenario,
  parallelToolScenario,
  reasoningScenario,
  stallScenario,
  textScenario,
  thinkingTagScenario,
  toolScenario,
  usageScenario,
} from "./scenarios";
import { validateGenerateAssistantRequest } from "./validator";
import { extraDirectiveScenario } from "./directives";
import { webAnswerScenario } from "./web-answer";
import { webFetchScenario } from "./web-fetch";
import { mcpAnswer, type FakeMcpBehaviour } from "./mcp";
import { FAKE_MODELS, fakeModelsBody, maxInputCharsFor, planRefusal } from "./models";
import { abuseAnswer, type AbuseBehaviour } from "./abuse";

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

export type RecordedRequest = {
  method: string;
  path: string;
  /** Query string without "?" ("" when none). */
  query: string;
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, else the text ("" for GET). */
  body: unknown;
  accountRefreshToken?: string;
  at: number;
};

export type FakeKiro = {
  url: string;
  upstream: { apiUrl: string; authUrl: string; oidcUrl: string; region: string };
  addAccount(a: FakeAccountInit): FakeAccount;
  enqueue(scenario: Scenario, forAccessTokenOf?: string): void;
  setDefaultScenario(s: Scenario | undefined): void;
  requests: RecordedRequest[];
  refreshCalls: Array<{ refreshToken: string; at: number; kind: "social" | "idc" }>;
  /**
   * Awaited before a refresh request is looked at (a request still on its way to the service).
   * A refresh whose caller went away meanwhile never reaches the service: nothing rotates.
   */
  beforeRefresh?: () => Promise<void>;
  /** The OIDC device sign-in flow: approve/deny codes as the person at the browser would. */
  oidcDevice: OidcDevice;
  readonly aborts: number;
  reset(): void;
  stop(): Promise<void>;
};

const SOCIAL_ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK";
const IDC_ARN = "arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEIDCPROFILE";
const NS = "com.amazon.aws.codewhisperer#";
const BEARER_INVALID = "The bearer token included in the request is invalid.";
const PROFILE_ARN_REQUIRED = "profileArn is required for this request";
/** Row 6 has no documented wording; deliberately none of the strings the classifier keys on. */
const PROFILE_DENIED = "You do not have access to the profile specified in the request.";
const FAMILY_A_PREFIX = "/family-a";

function hasMember(o: unknown, key: string): boolean {
  return typeof o === "object" && o !== null && key in o;
}

/** The real service words its ValidationException by reason (prompt too long, invalid model, malformed request). */
function validationMessage(reason: string | undefined): string {
  if (reason === "INVALID_MODEL_ID") return "Invalid model. Please select a different model.";
  if (reason === "CONTENT_LENGTH_EXCEEDS_THRESHOLD") return "Input is too long.";
  return "Improperly formed request.";
}

type AccountState = {
  init: FakeAccountInit;
  pub: FakeAccount;
  currentRefresh: string;
  lastAccess?: string;
  chatCalls: number;
  queue: Scenario[];
};

function token(prefix: string, len: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(len));
  return prefix + Buffer.from(bytes).toString("base64url").slice(0, len);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A typed service error the way restJson1 sends it: x-amzn-errortype, __type and {message, reason}. */
function typedError(status: number, name: string, message: string, reason: string | null, headers: Record<string, string> = {}) {
  return json(status, { __type: NS + name, message, reason }, { "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/${NS.slice(0, -1)}/`, ...headers });
}

/**
 * Like the real service, report context usage for *this* request: (prompt + answer) / window.
 * The prompt is approximated from the request JSON (≈ 4 characters per token; the real count
 * also includes the service's own system prompt, which a proxy cannot see either).
 */
function withRealContextUsage(scenario: Scenario, body: any): Scenario {
  if (!scenario.steps.some((st) => "autoContextUsage" in st && st.autoContextUsage)) return scenario;
  const modelId: string = body?.conversationState?.currentMessage?.userInputMessage?.modelId ?? "";
  const window = /4\.[678]|opus-4\.6|sonnet-4\.6/.test(modelId) ? 1_000_000 : 200_000;
  const promptTokens = Math.ceil(JSON.stringify(body?.conversationState ?? {}).length / 4);
  let answerChars = 0;
  for (const st of scenario.steps) if ("event" in st && st.event === "assistantResponseEvent") answerChars += String((st.payload as { content?: string }).content ?? "").length;
  const pct = Math.min(100, ((promptTokens + Math.ceil(answerChars / 4)) / window) * 100);
  return {
    ...scenario,
    steps: scenario.steps.map((st) =>
      "autoContextUsage" in st && st.autoContextUsage ? { event: st.event, payload: { contextUsagePercentage: Number(pct.toFixed(4)) } } : st,
    ),
  };
}

function lastUserText(body: any): string {
  const cur = body?.conversationState?.currentMessage?.userInputMessage?.content;
  return typeof cur === "string" ? cur : "";
}

/** Fills the required fields of a JSON schema so SDK clients get a plausible tool input. */
function sampleInput(schema: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = (schema && typeof schema === "object" && schema.properties) || {};
  for (const key of Array.isArray(schema?.required) ? schema.required : []) {
    const t = props[key]?.type;
    out[key] = t === "number" || t === "integer" ? 1 : t === "boolean" ? true : t === "array" ? [] : t === "object" ? {} : "fake";
  }
  return out;
}

function directiveScenario(name: string, body: any, arg?: number): Scenario | undefined {
  const tools: any[] = body?.conversationState?.currentMessage?.userInputMessage?.userInputMessageContext?.tools ?? [];
  const specs = tools.map((t) => t?.toolSpecification).filter(Boolean);
  const call = (i: number) => {
    const spec = specs[i % Math.max(1, specs.length)];
    return spec ? { name: spec.name as string, input: sampleInput(spec.inputSchema?.json) } : undefined;
  };
  switch (name) {
    case "text":
      return textScenario("Hello from fake Kiro.");
    case "tools": {
      const c = call(0);
      return c ? toolScenario([c], { text: "Calling a tool." }) : textScenario("No tools were declared.");
    }
    case "parallel_tools": {
      const a = call(0);
      const b = call(1);
      return a && b ? parallelToolScenario([a, b]) : textScenario("No tools were declared.");
    }
    case "thinking":
      return thinkingTagScenario("Let me think about this.", "Here is the answer.");
    case "reasoning":
      return reasoningScenario("Reasoning about it.", "Here is the answer.");
    case "long":
      return longScenario(Math.min(Math.max(arg ?? 400, 1), 100_000));
    case "usage":
      return usageScenario();
    case "exception":
      return exceptionScenario("ThrottlingException", "Too many requests, please wait before trying again.");
    case "error_frame":
      return errorFrameScenario();
    case "content_length":
      return contentLengthScenario();
    case "stall":
      return stallScenario("slow answer", { beforeMs: 1500, betweenMs: 300 });
    case "abrupt":
      return abruptCloseScenario();
    case "bad_crc":
      return badCrcScenario();
  }
  return extraDirectiveScenario(name, body, arg);
}

export type FakeKiroOptions = {
  port?: number;
  hostname?: string;
  /**
   * Act as endpoint family A (runtime.{region}.kiro.dev) on every path: a chat body without
   * `profileArn` gets 400 "profileArn is required for this request". Without the option, the
   * same behaviour is available under the path prefix `/family-a` (so one fake can play A and B).
   */
  requireProfileArn?: boolean;
  /** How chat bodies are cut into writes (see ScenarioStreamOptions.chunking); default "random". */
  chunking?: "random" | "frame" | "burst";
};

export async function startFakeKiro(opts: FakeKiroOptions = {}): Promise<FakeKiro> {
  const accounts = new Map<string, AccountState>(); // by original refresh token
  const byRefresh = new Map<string, AccountState>(); // currently valid refresh tokens
  const byAccess = new Map<string, { acct: AccountState; expiresAt: number }>();
  const globalQueue: Scenario[] = [];
  let defaultScenario: Scenario | undefined;
  let aborts = 0;
  let seed = 1;
  const requests: RecordedRequest[] = [];
  const refreshCalls: FakeKiro["refreshCalls"] = [];

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

  async function record(req: Request, url: URL): Promise<{ rec: RecordedRequest; raw: string }> {
    const raw = req.method === "GET" ? "" : await req.text();
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : "";
    } catch {
      // non-JSON bodies are kept as text so tests can see what was sent
    }
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const rec: RecordedRequest = { method: req.method, path: url.pathname, query: url.search.slice(1), headers, body, at: Date.now() };
    requests.push(rec);
    return { rec, raw };
  }

  function bearer(req: Request, rec: RecordedRequest): AccountState | Response {
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

  function socialRefresh(rec: RecordedRequest): Response {
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

  function idcRefresh(rec: RecordedRequest): Response {
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

  function behaviourError(st: AccountState, raw: string): Response | undefined {
    const b = st.pub.behaviour;
    const abuse = abuseAnswer(b, `user-${st.init.refreshToken.slice(-6)}`);
    if (abuse) return abuse;
    if (b.suspended) {
      return typedError(403, "AccessDeniedException", "Your User ID (fake) temporarily is suspended. Please contact support.", "TEMPORARILY_SUSPENDED");
    }
    if (b.quota) return typedError(402, "ServiceQuotaExceededException", "You have reached the limit.", "MONTHLY_REQUEST_COUNT");
    if (b.throttleCalls && b.throttleCalls > 0) {
      b.throttleCalls--;
      return typedError(429, "ThrottlingException", "Too many requests, please wait before trying again.", null, {
        "retry-after": String(b.retryAfterSec ?? 7),
      });
    }
    if (b.capacityCalls && b.capacityCalls > 0) {
      b.capacityCalls--;
      return typedError(429, "ThrottlingException", "I am experiencing high traffic, please try again shortly.", "INSUFFICIENT_MODEL_CAPACITY");
    }
    if (b.transient500Calls && b.transient500Calls > 0) {
      b.transient500Calls--;
      return typedError(500, "InternalServerException", "Encountered an unexpected error when processing the request, please try again.", null);
    }
    if (b.inputTooLong || (b.maxBodyBytes !== undefined && raw.length > b.maxBodyBytes)) {
      return typedError(400, "ValidationException", "Input is too long.", "CONTENT_LENGTH_EXCEEDS_THRESHOLD");
    }
    return undefined;
  }

  /**
   * 403s the real service gives for members the account may not use:
   * workspace context / customizations, and a profileArn that is not this identity's own
   * (profile-less Builder ID / IdC / API-key identities have none, so any ARN is refused).
   */
  function authorizationError(st: AccountState, body: unknown): Response | undefined {
    const cs = (body as any)?.conversationState;
    if (hasMember(cs, "workspaceId")) {
      return typedError(403, "AccessDeniedException", "You are not authorized to use workspace context.", "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS");
    }
    if (hasMember(cs, "customizationArn")) {
      return typedError(403, "AccessDeniedException", "You are not authorized to access this customization.", "UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS");
    }
    if (hasMember(body, "profileArn") && (body as any).profileArn !== st.pub.profileArn) {
      return typedError(403, "AccessDeniedException", PROFILE_DENIED, null);
    }
    return undefined;
  }

  async function chat(req: Request, rec: RecordedRequest, raw: string, familyA: boolean): Promise<Response> {
    const who = bearer(req, rec);
    if (who instanceof Response) return who;
    const st = who;
    st.chatCalls++;
    if (st.pub.behaviour.slowFirstByteMs) await Bun.sleep(st.pub.behaviour.slowFirstByteMs);
    // Family A refuses a body without an ARN before looking at anything else (400 "profileArn is required for this request").
    if (familyA && !hasMember(rec.body, "profileArn")) {
      return typedError(400, "ValidationException", PROFILE_ARN_REQUIRED, null);
    }
    const fail = behaviourError(st, raw);
    if (fail) return fail;
    const denied = authorizationError(st, rec.body);
    if (denied) return denied;
    const v = validateGenerateAssistantRequest(rec.body, { maxInputChars: maxInputCharsFor(rec.body) });
    if (!v.ok) {
      return typedError(400, "ValidationException", validationMessage(v.reason), v.reason ?? null, { "x-fake-validation": v.message.slice(0, 500) });
    }
    const refused = planRefusal(st.init.models, rec.body);
    if (refused) return typedError(400, "ValidationException", refused.message, refused.reason);
    const text = lastUserText(rec.body);
    // `[[fake:NAME]]`, or `[[fake:NAME:N]]` for scenarios with a size (long:N = N frames).
    const m = /\[\[fake:([a-z_]+)(?::(\d+))?\]\]/.exec(text);
    const directive = m?.[1];
    const scenario =
      (directive ? directiveScenario(directive, rec.body, m?.[2] ? Number(m[2]) : undefined) : undefined) ??
      webAnswerScenario(rec.body) ??
      webFetchScenario(rec.body) ??
      st.queue.shift() ??
      globalQueue.shift() ??
      defaultScenario ??
      textScenario(`Fake Kiro says: ${text || "(no text)"}`);

    // Count a client abort once per stream, whether Bun reports it via the request signal or by
    // cancelling our body stream.
    let finished = false;
    let counted = false;
    const countAbort = () => {
      if (!finished && !counted) {
        counted = true;
        aborts++;
      }
    };
    req.signal.addEventListener("abort", countAbort, { once: true });
    const inner = scenarioStream(withRealContextUsage(scenario, rec.body), { seed: seed++, chunking: opts.chunking });
    const reader = inner.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const r = await reader.read();
        if (r.done) {
          finished = true;
          controller.close();
        } else controller.enqueue(r.value);
      },
      async cancel() {
        countAbort();
        await reader.cancel();
      },
    });
    const conversationId = (rec.body as any)?.conversationState?.conversationId ?? crypto.randomUUID();
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "application/vnd.amazon.eventstream",
        "x-amzn-codewhisperer-conversation-id": String(conversationId),
        "x-amzn-requestid": crypto.randomUUID(),
      },
    });
  }

  function side(op: "usage" | "models" | "profiles", req: Request, rec: RecordedRequest): Response {
    const who = bearer(req, rec);
    if (who instanceof Response) return who;
    if (who.pub.behaviour.suspended && op !== "usage") {
      // Reported by third parties: suspended accounts fail here while getUsageLimits still works.
      return typedError(403, "AccessDeniedException", "Your User ID (fake) temporarily is suspended.", "TEMPORARILY_SUSPENDED");
    }
    if (op === "usage") {
      return json(200, usageLimitsBody(who.pub.quota, { email: who.pub.email, userId: `user-${who.init.refreshToken.slice(-6)}` }));
    }
    if (op === "models") return json(200, modelsBody(who.init.models));
    if (who.pub.kind === "idc" && !who.pub.profileArn) {
      return typedError(403, "AccessDeniedException", "User is not authorized to access profiles", null);
    }
    if (who.pub.kind === "api_key") return typedError(403, "AccessDeniedException", "Unsupported token type", null);
    return json(200, profilesBody(who.pub.profileArn));
  }

  function mcp(req: Request, rec: RecordedRequest, raw: string): Response {
    const who = bearer(req, rec);
    if (who instanceof Response) return who;
    const fail = behaviourError(who, raw);
    if (fail) return fail;
    return mcpAnswer(rec.body, rec.headers, { profileArn: who.pub.profileArn, mcp: who.pub.mcp }, { json, typedError });
  }

  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    idleTimeout: 255, // stall scenarios must not be cut by Bun's 10 s default
    async fetch(req) {
      const url = new URL(req.url);
      const { rec, raw } = await record(req, url);
      const target = req.headers.get("x-amz-target") ?? "";
      // `/family-a/...` (or the requireProfileArn option) makes this host behave like family A.
      const prefixed = url.pathname.startsWith(FAMILY_A_PREFIX + "/");
      const familyA = prefixed || opts.requireProfileArn === true;
      const p = prefixed ? url.pathname.slice(FAMILY_A_PREFIX.length) : url.pathname;
      if (req.method === "POST") {
        const device = oidcDevice.handle(p, rec.body);
        if (device) return device;
      }
      if (req.method === "POST" && (p === "/refreshToken" || p === "/token") && fake.beforeRefresh) {
        await fake.beforeRefresh();
        if (req.signal.aborted) return new Response(null, { status: 499 });
      }
      if (req.method === "POST" && p === "/refreshToken") return socialRefresh(rec);
      if (req.method === "POST" && p === "/token") return idcRefresh(rec);
      if (req.method === "POST" && p === "/generateAssistantResponse") return chat(req, rec, raw, familyA);
      if (req.method === "POST" && p === "/mcp") return mcp(req, rec, raw);
      if (req.method === "POST" && p === "/" && target) {
        const op = target.split(".").pop();
        if (op === "GenerateAssistantResponse") return chat(req, rec, raw, familyA);
        if (op === "GetUsageLimits") return side("usage", req, rec);
        if (op === "ListAvailableModels") return side("models", req, rec);
        if (op === "ListAvailableProfiles") return side("profiles", req, rec);
      }
      if (req.method === "GET" && p === "/getUsageLimits") return side("usage", req, rec);
      if (req.method === "GET" && p === "/ListAvailableModels") return side("models", req, rec);
      if (req.method === "POST" && (p === "/ListAvailableProfiles" || p === "/listAvailableProfiles")) return side("profiles", req, rec);
      return typedError(404, "ResourceNotFoundException", `Unknown operation ${req.method} ${p}`, null);
    },
  });

  const url = `http://${server.hostname}:${server.port}`;
  const oidcDevice = createOidcDevice(url, { addAccount, issueAccess: (rt) => issueAccess(byRefresh.get(rt)!), token });
  const fake: FakeKiro = {
    url,
    upstream: { apiUrl: url, authUrl: url, oidcUrl: url, region: "us-east-1" },
    addAccount,
    enqueue(scenario, forAccessTokenOf) {
      if (forAccessTokenOf === undefined) return void globalQueue.push(scenario);
      const st = accounts.get(forAccessTokenOf) ?? byRefresh.get(forAccessTokenOf);
      if (!st) throw new Error(`fake-kiro: no account with refresh token ${forAccessTokenOf.slice(0, 8)}…`);
      st.queue.push(scenario);
    },
    setDefaultScenario(s) {
      defaultScenario = s;
    },
    requests,
    refreshCalls,
    oidcDevice,
    get aborts() {
      return aborts;
    },
    reset() {
      accounts.clear();
      byRefresh.clear();
      byAccess.clear();
      globalQueue.length = 0;
      defaultScenario = undefined;
      requests.length = 0;
      refreshCalls.length = 0;
      oidcDevice.reset();
      aborts = 0;
    },
    async stop() {
      await server.stop(true);
    },
    beforeRefresh: undefined,
  };
  return fake;
}

// ---------------------------------------------------------------- side-call bodies

export type FakeQuota = {
  /** Base CREDIT breakdown (currentUsageWithPrecision / usageLimitWithPrecision). */
  used?: number;
  limit?: number;
  subscriptionTitle?: string;
  /** Active free trial on top of the base limit; omitted → no freeTrialInfo. */
  freeTrial?: { used: number; limit: number; status?: "ACTIVE" | "EXPIRED"; expiry?: number /* epoch s */ };
  bonuses?: Array<{ code: string; used: number; limit: number; status?: "ACTIVE" | "EXHAUSTED" | "EXPIRED"; expiresAt?: number /* epoch s */ }>;
  /** Epoch seconds. */
  nextDateReset?: number;
};

export function usageLimitsBody(q: FakeQuota, user: { email: string; userId: string }): Record<string, unknown> {
  // Defaults relative to now so a fake trial/bonus is never accidentally expired.
  const nowSec = Math.floor(Date.now() / 1000);
  const d = new Date();
  const reset = q.nextDateReset ?? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
  const used = q.used ?? 12.5;
  const limit = q.limit ?? 50;
  const title = q.subscriptionTitle ?? "KIRO FREE";
  const breakdown: Record<string, unknown> = {
    resourceType: "CREDIT",
    displayName: "Credit",
    displayNamePlural: "Credits",
    unit: "INVOCATIONS",
    currency: "USD",
    currentUsage: Math.floor(used),
    currentUsageWithPrecision: used,
    usageLimit: Math.floor(limit),
    usageLimitWithPrecision: limit,
    currentOverages: 0,
    currentOveragesWithPrecision: 0.0,
    overageCap: 0,
    overageCapWithPrecision: 0.0,
    overageRate: 0.04,
    overageCharges: 0.0,
    nextDateReset: reset,
  };
  if (q.freeTrial) {
    breakdown.freeTrialInfo = {
      freeTrialStatus: q.freeTrial.status ?? "ACTIVE",
      freeTrialExpiry: q.freeTrial.expiry ?? nowSec + 30 * 86400,
      currentUsage: Math.floor(q.freeTrial.used),
      currentUsageWithPrecision: q.freeTrial.used,
      usageLimit: Math.floor(q.freeTrial.limit),
      usageLimitWithPrecision: q.freeTrial.limit,
    };
  }
  if (q.bonuses) {
    breakdown.bonuses = q.bonuses.map((b) => ({
      bonusCode: b.code,
      displayName: `${b.code} bonus`,
      status: b.status ?? "ACTIVE",
      expiresAt: b.expiresAt ?? nowSec + 14 * 86400,
      currentUsage: b.used,
      usageLimit: b.limit,
    }));
  }
  return {
    daysUntilReset: Math.max(0, Math.ceil((reset - nowSec) / 86400)),
    nextDateReset: reset,
    limits: [],
    overageConfiguration: { overageStatus: "DISABLED" },
    subscriptionInfo: {
      subscriptionTitle: title,
      type: title === "KIRO FREE" ? "Q_DEVELOPER_STANDALONE_FREE" : "Q_DEVELOPER_STANDALONE_PRO",
      overageCapability: "OVERAGE_INCAPABLE",
      upgradeCapability: "UPGRADE_CAPABLE",
      subscriptionManagementTarget: "PURCHASE",
    },
    userInfo: user,
    usageBreakdownList: [breakdown],
  };
}

/** Kept for callers of the old names; the catalogue lives in models.ts. */
export const AVAILABLE_MODELS = FAKE_MODELS;
export const modelsBody = fakeModelsBody;

export function profilesBody(profileArn: string | undefined): Record<string, unknown> {
  return {
    profiles: profileArn
      ? [
          { arn: profileArn, profileName: "fake-profile", status: "ACTIVE", profileType: "KIRO", description: "fake" },
        ]
      : [],
    nextToken: null,
  };
}
