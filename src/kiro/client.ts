/**
 * openChat: one GenerateAssistantResponse call, sent with the model's upstream id (resolved when the
 * request was decoded).
 * Resolves once the upstream answered 200 (events not consumed yet); otherwise throws a
 * classified KiroError. Endpoint families are tried in order and fall back only on
 * 404 / DNS / connect failures (and, for an account without an ARN, family A's
 * "profileArn is required"), never on answers from a live service. That last answer is
 * remembered per account (machineId, with the selector's TTL) so later requests of the same
 * ARN-less account skip family A instead of repeating the failed round trip.
 */
import type { CanonicalEvent, CanonicalRequest } from "../core/canonical";
import type { KiroAuthKind } from "./auth";
import { proxyFor, type KiroUpstreamConfig } from "./config";
import {
  apiRegionFor,
  defaultEndpointSelector,
  type EndpointSelector,
  familyRequiresProfileArn,
} from "./endpoints";
import { KiroError, SYNTHETIC_REASONS } from "./errors";
import { classifyResponse, upstreamFetchHeld } from "./http";
import type { ChunkBody } from "./chunk-body";
import { buildKiroRequest } from "./request/build";
import { kiroHeaders } from "./request/headers";
import { flatten } from "../core/poll";
import { decodeKiroBatches } from "./stream/decode";

export type KiroCredentials = {
  accessToken: string;
  authKind: KiroAuthKind;
  /** Configured API region; the region inside a profileArn wins over it. */
  region: string;
  profileArn?: string;
  machineId: string;
  proxy?: string;
};

export type OpenChatOptions = {
  upstream: KiroUpstreamConfig;
  signal: AbortSignal;
  conversationId?: string;
  /** 1-based attempt number for `amz-sdk-request`. */
  attempt?: number;
  /** Defaults to the process-wide selector; tests pass their own host templates. */
  endpoints?: EndpointSelector;
  /** Max wait for the response headers (default http.ts DEFAULT_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs?: number;
  /** Max silence from the upstream once streaming (default STREAM_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
};

/** The official client's socket inactivity timeout (its CLIENT_TIMEOUT_MS). */
export const STREAM_IDLE_TIMEOUT_MS = 245_000;

/**
 * `batches` yields one array of events per network chunk (the hot path: one await per chunk);
 * `events` is the same stream one event at a time. Consume exactly one of them.
 */
export type OpenedChat = { batches: AsyncIterable<CanonicalEvent[]>; events: AsyncIterable<CanonicalEvent>; modelId: string };

export async function openChat(
  req: CanonicalRequest,
  creds: KiroCredentials,
  opts: OpenChatOptions,
): Promise<OpenedChat> {
  // Throws input_too_long / bad_request / invalid_model before anything is sent.
  const built = buildKiroRequest(req, {
    profileArn: creds.profileArn,
    conversationId: opts.conversationId ?? req.metadata.conversationId,
  });
  const body = built.json;
  const selector = opts.endpoints ?? defaultEndpointSelector;
  const region = apiRegionFor(creds.profileArn, creds.region);
  const invocationId = crypto.randomUUID();
  let candidates = selector.candidates(region, opts.upstream);
  // Set when family A was skipped only because this account has no ARN: the region's family
  // choice must not change for that (accounts with an ARN still belong on family A).
  let skippedForArn = false;
  if (!creds.profileArn && selector.knownToLackArn(creds.machineId)) {
    const rest = candidates.filter((c) => !familyRequiresProfileArn(c.family));
    if (rest.length > 0 && rest.length < candidates.length) {
      candidates = rest;
      skippedForArn = true;
    }
  }

  let last: KiroError | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const ep = candidates[i]!;
    const moreLeft = i < candidates.length - 1;
    const headers = kiroHeaders({
      accessToken: creds.accessToken,
      machineId: creds.machineId,
      authKind: creds.authKind,
      invocationId,
      attempt: opts.attempt ?? 1,
    });
    let res: Response;
    let release: () => void;
    let chunks: ChunkBody | undefined;
    try {
      ({ res, release, chunks } = await upstreamFetchHeld(`${ep.baseUrl}/generateAssistantResponse`, {
        method: "POST",
        headers,
        body,
        proxy: proxyFor(creds.proxy, opts.upstream),
        // Passed through so a client disconnect cancels the upstream request and its body.
        signal: opts.signal,
        timeoutMs: opts.headersTimeoutMs,
        source: "chat",
        slots: opts.upstream.slots,
        http: opts.upstream.http,
      }));
    } catch (err) {
      if (err instanceof KiroError && err.cls === "endpoint_unavailable" && moreLeft) {
        last = err;
        continue;
      }
      throw err;
    }

    const stream = chunks ?? res.body;
    if (res.status === 200 && stream) {
      if (!skippedForArn) selector.reportWorking(region, ep);
      // The connection slot is held until the body is done: the decoder's end gives it back, and
      // so does the caller's abort (a stream dropped before it was ever read never runs its end).
      const signal = opts.signal;
      const onAbort = () => release();
      signal.addEventListener("abort", onAbort, { once: true });
      const end = () => {
        signal.removeEventListener("abort", onAbort);
        release();
      };
      // <thinking> tags are only parsed when thinking was requested: otherwise a
      // literal "<thinking>" in an ordinary answer would vanish into a thinking block.
      const batches = decodeKiroBatches(stream, {
        restoreToolName: (n) => built.toolNames.restore(n),
        thinkingTags: req.thinking.type !== "disabled",
        idleTimeoutMs: opts.idleTimeoutMs ?? opts.upstream.streamIdleMs ?? STREAM_IDLE_TIMEOUT_MS,
        onEnd: end,
      });
      return { modelId: built.modelId, batches, events: flatten(batches) };
    }

    if (res.status === 200) {
      release();
      throw new KiroError("transient", "upstream answered 200 without a body", { status: 200 });
    }
    let err: KiroError;
    try {
      err = await classifyResponse(res, "chat");
    } finally {
      release();
    }
    if (err.cls === "endpoint_unavailable" && moreLeft) {
      last = err;
      continue;
    }
    // The one exception to "never fall back on a live answer": family A insists on an ARN this
    // account does not have → use the next family, and remember that for this account only
    // (other accounts may have ARNs, so the region's family choice stays).
    if (
      err.reason === SYNTHETIC_REASONS.profileArnRequired &&
      !creds.profileArn &&
      familyRequiresProfileArn(ep.family) &&
      moreLeft
    ) {
      selector.rememberLacksArn(creds.machineId);
      last = err;
      skippedForArn = true;
      continue;
    }
    // Any other answer comes from a live service on this family: remember it.
    if (err.cls !== "endpoint_unavailable" && !skippedForArn) selector.reportWorking(region, ep);
    throw err;
  }
  throw last ?? new KiroError("endpoint_unavailable", "no upstream endpoint configured");
}
