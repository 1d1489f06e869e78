/**
 * What every side call shares (the calls beside the chat stream: usage limits, model and profile
 * lists, MCP): the runtime headers of the official client, and the walk over the endpoint
 * families. A side call tries each family in order and moves to the next one only when the host
 * does not serve it (404, DNS or connection failure: `endpoint_unavailable`); any other answer is
 * the account's or the service's state and is thrown as the classified KiroError.
 */
import { KIRO_IDE_VERSION } from "./auth";
import type { KiroCredentials } from "./client";
import { proxyFor, type KiroUpstreamConfig } from "./config";
import { apiRegionFor, defaultEndpointSelector, type Endpoint, type EndpointSelector } from "./endpoints";
import { KiroError } from "./errors";
import { classifyResponse, upstreamFetch } from "./http";

export type SideRequest = { url: string; method: "GET" | "POST"; headers: Record<string, string>; body?: string };

export type SideCallRun = { endpoints?: EndpointSelector; signal?: AbortSignal; timeoutMs: number };

/** The official client's runtime headers (bearer, user agents, one invocation id per call), then `extra`. */
export function sideHeaders(creds: KiroCredentials, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = {
    authorization: `Bearer ${creds.accessToken}`,
    accept: "application/json",
    "x-amz-user-agent": `aws-sdk-js/1.0.0 KiroIDE-${KIRO_IDE_VERSION}-${creds.machineId}`,
    "user-agent": `aws-sdk-js/1.0.0 ua/2.1 os/${process.platform} lang/js md/nodejs#${process.versions.node} api/codewhispererruntime#1.0.0 m/N,E KiroIDE-${KIRO_IDE_VERSION}-${creds.machineId}`,
    "amz-sdk-invocation-id": crypto.randomUUID(),
    "amz-sdk-request": "attempt=1; max=1",
    ...extra,
  };
  if (creds.authKind === "api_key") h.tokentype = "API_KEY";
  return h;
}

/**
 * Sends the request `request(endpoint)` builds to each endpoint family of the account's region in
 * order, falling back only on endpoint_unavailable. A 200 is handed to `read`; any other status
 * is thrown classified.
 */
export async function sideCall<T>(
  creds: KiroCredentials,
  upstream: KiroUpstreamConfig,
  run: SideCallRun,
  request: (ep: Endpoint) => SideRequest,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const selector = run.endpoints ?? defaultEndpointSelector;
  const region = apiRegionFor(creds.profileArn, creds.region);
  let last: KiroError | undefined;
  for (const ep of selector.candidates(region, upstream)) {
    const r = request(ep);
    try {
      const res = await upstreamFetch(r.url, {
        method: r.method,
        headers: r.headers,
        body: r.body,
        proxy: proxyFor(creds.proxy, upstream),
        signal: run.signal,
        timeoutMs: run.timeoutMs,
        source: "side",
        slots: upstream.slots,
      });
      if (res.status !== 200) throw await classifyResponse(res, "side");
      return await read(res);
    } catch (err) {
      if (err instanceof KiroError && err.cls === "endpoint_unavailable") {
        last = err;
        continue;
      }
      throw err;
    }
  }
  throw last ?? new KiroError("endpoint_unavailable", "no upstream endpoint configured");
}
