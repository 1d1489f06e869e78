import type { UpstreamSlots } from "./slots";
import type { StreamHttpClient } from "./stream-http";

/** What the Kiro module needs to know about where the upstream is. Built from app config. */
export type KiroUpstreamConfig = {
  /** Default API region (KIRO_REGION), e.g. "us-east-1". */
  region: string;
  /** KIRO_API_URL: chat + side-call base URL; may contain "{region}". When set, no family fallback. */
  apiUrl?: string;
  /** KIRO_AUTH_URL: social refresh base URL (default https://prod.{region}.auth.desktop.kiro.dev). */
  authUrl?: string;
  /** KIRO_OIDC_URL: IdC OIDC base URL (default https://oidc.{region}.amazonaws.com). */
  oidcUrl?: string;
  /** HTTPS_PROXY / KIRO_PROXY; an account may override it. */
  proxy?: string;
  /** Upstream connection slots shared by every call (KIRO_MAX_UPSTREAM_REQUESTS); none = unbounded. */
  slots?: UpstreamSlots;
  /** Silence after which a chat stream is given up (KIRO_STREAM_IDLE_MS); default STREAM_IDLE_TIMEOUT_MS. */
  streamIdleMs?: number;
  /** The chat stream's socket client (KIRO_UPSTREAM_HTTP=socket); none, or a proxy in use = fetch. */
  http?: StreamHttpClient;
};

/** The proxy a call for an account goes through: the account's own, else the server-wide one. */
export function proxyFor(accountProxy: string | undefined, upstream: Pick<KiroUpstreamConfig, "proxy">): string | undefined {
  return accountProxy ?? upstream.proxy;
}
