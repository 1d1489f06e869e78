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
 * This file records every request, routes it and streams the chosen scenario; the rest lives in
 * accounts.ts (accounts, issued tokens, the bearer check, both refresh endpoints), refusals.ts
 * (what a chat call is refused with, in order), chat-scenario.ts (the directives below, the
 * per-request context usage), side-calls.ts (usage-limits and profiles bodies), responses.ts
 * (JSON and typed-error answers), oidc-device.ts and mcp.ts.
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
import { scenarioStream, textScenario, type Scenario } from "./scenarios";
import { createOidcDevice, type OidcDevice } from "./oidc-device";
import { webAnswerScenario } from "./web-answer";
import { webFetchScenario } from "./web-fetch";
import { mcpAnswer } from "./mcp";
import { createAccountBook, token, type FakeAccount, type FakeAccountInit, type FakeBehaviour, type RefreshCall } from "./accounts";
import { behaviourError, chatRefusal } from "./refusals";
import { directiveScenario, lastUserText, withRealContextUsage } from "./chat-scenario";
import { json, typedError } from "./responses";
import { modelsBody, profilesBody, usageLimitsBody } from "./side-calls";
import { wallMs } from "./clock";

export type { FakeAccount, FakeAccountInit, FakeBehaviour };
export { AVAILABLE_MODELS, modelsBody, profilesBody, usageLimitsBody, type FakeQuota } from "./side-calls";

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
  refreshCalls: RefreshCall[];
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

const FAMILY_A_PREFIX = "/family-a";

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
  /** With chunking "frame": milliseconds between frames (see ScenarioStreamOptions.frameIntervalMs). */
  frameIntervalMs?: number;
  /**
   * Told, per chat request answered with a stream, when the request reached the fake and when the
   * stream's first chunk was handed to the response: wall-clock milliseconds
   * (`performance.timeOrigin + performance.now()`, comparable between processes on one machine).
   * bench/stream.ts uses it to time what a proxy adds on each side of the fake.
   */
  onChatTiming?: (t: { arrivedAt: number; firstChunkAt: number }) => void;
};

export async function startFakeKiro(opts: FakeKiroOptions = {}): Promise<FakeKiro> {
  const globalQueue: Scenario[] = [];
  let defaultScenario: Scenario | undefined;
  let aborts = 0;
  let seed = 1;
  const requests: RecordedRequest[] = [];
  const refreshCalls: RefreshCall[] = [];
  const book = createAccountBook(refreshCalls);
  const { accounts, byRefresh, addAccount, issueAccess, bearer, socialRefresh, idcRefresh } = book;

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
  async function chat(req: Request, rec: RecordedRequest, raw: string, familyA: boolean, arrivedAt: number): Promise<Response> {
    const who = bearer(req, rec);
    if (who instanceof Response) return who;
    const st = who;
    st.chatCalls++;
    if (st.pub.behaviour.slowFirstByteMs) await Bun.sleep(st.pub.behaviour.slowFirstByteMs);
    const refused = chatRefusal(st, rec.body, raw, familyA);
    if (refused) return refused;
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
    const inner = scenarioStream(withRealContextUsage(scenario, rec.body), {
      seed: seed++,
      chunking: opts.chunking,
      frameIntervalMs: opts.frameIntervalMs,
      onFirstChunk: opts.onChatTiming && (() => opts.onChatTiming!({ arrivedAt, firstChunkAt: wallMs() })),
    });
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
      const arrivedAt = opts.onChatTiming ? wallMs() : 0;
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
      if (req.method === "POST" && p === "/generateAssistantResponse") return chat(req, rec, raw, familyA, arrivedAt);
      if (req.method === "POST" && p === "/mcp") return mcp(req, rec, raw);
      if (req.method === "POST" && p === "/" && target) {
        const op = target.split(".").pop();
        if (op === "GenerateAssistantResponse") return chat(req, rec, raw, familyA, arrivedAt);
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
      book.clear();
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
