import { DEFAULT_UPSTREAM_REQUESTS } from "../kiro/fetch-limit";
import { z } from "zod";

/**
 * Every setting of kiro-server, one zod schema. Each entry names its env var and CLI flag so
 * that --help, validation messages and the README all come from the same table.
 */
const port = z.coerce.number().int().min(0).max(65535);
const url = z.url({ protocol: /^https?$/ });
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region like us-east-1");

/** One DNS name (labels of letters, digits and inner hyphens), an IPv4 address, or an IPv6 one (bracketed or not). */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV6 = /^[0-9a-f.]*:[0-9a-f.:]*:[0-9a-f.:]*$/;

/**
 * A comma-separated list of host names as a browser puts them in the Host header, without scheme,
 * port or wildcard: "kiro.example.com, 10.0.0.5" → ["kiro.example.com", "10.0.0.5"]. IPv6
 * addresses are kept bracketed, as the Host header carries them. A bad entry is named.
 */
const hostList = z.string().transform((text, ctx) => {
  const hosts: string[] = [];
  for (const raw of text.split(",")) {
    const h = raw.trim().toLowerCase();
    if (DNS_NAME.test(h)) hosts.push(h);
    else if (IPV6.test(h.replace(/^\[(.*)\]$/, "$1"))) hosts.push(h.startsWith("[") ? h : `[${h}]`);
    else ctx.addIssue({ code: "custom", message: h ? `"${h}" is not a host name` : "an entry is empty" });
  }
  return hosts;
});

export const SETTINGS = {
  port: { env: "PORT", flag: "--port", schema: port.default(7860), help: "port to listen on", allowed: "an integer 0-65535" },
  host: { env: "HOST", flag: "--host", schema: z.string().min(1).default("127.0.0.1"), help: "address to bind (127.0.0.1 keeps it local)", allowed: "a host name or IP address" },
  allowedHosts: { env: "KIRO_ALLOWED_HOSTS", flag: "--allowed-hosts", schema: hostList.default([]), help: "more host names the admin panel answers to, e.g. the load balancer's kiro.example.com (default: the bound address and localhost)", allowed: "comma-separated host names (no scheme, port or wildcard), e.g. kiro.example.com,10.0.0.5" },
  dbPath: { env: "KIRO_KV_PATH", flag: "--db", schema: z.string().min(1).optional(), help: "SQLite database file (default: user data dir)", allowed: "a file path" },
  databaseUrl: { env: "DATABASE_URL", flag: "--database-url", schema: z.string().optional(), help: "postgres://… shares one PostgreSQL among several instances (otherwise: the SQLite file)", allowed: "a postgres:// or postgresql:// URL" },
  instanceId: { env: "KIRO_INSTANCE_ID", flag: "--instance-id", schema: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).optional(), help: "this instance's name in logs, metrics and the request log (default: hostname-pid)", allowed: "1-64 letters, digits, . _ : -" },
  clientToken: { env: "KIRO_CLIENT_TOKEN", flag: "--client-token", schema: z.string().min(1).optional(), help: "client API key for /v1 (generated and stored if unset)", allowed: "a non-empty string" },
  authToken: { env: "KIRO_AUTH_TOKEN", flag: "--auth-token", schema: z.string().min(1).optional(), help: "accounts to import at start: kiro2api JSON array, or a path to such a file", allowed: "a JSON array or a file path" },
  adminToken: { env: "KIRO_ADMIN_TOKEN", flag: "--admin-token", schema: z.string().min(8).optional(), help: "admin panel login secret (generated and stored if unset)", allowed: "a string of at least 8 characters" },
  secretKey: { env: "KIRO_SECRET_KEY", flag: "--secret-key", schema: z.string().min(16).optional(), help: "key that encrypts secrets at rest (default: key file next to the database)", allowed: "a string of at least 16 characters" },
  region: { env: "KIRO_REGION", flag: "--region", schema: region.default("us-east-1"), help: "default Kiro API region", allowed: "an AWS region like us-east-1" },
  apiUrl: { env: "KIRO_API_URL", flag: "--api-url", schema: url.optional(), help: "override the Kiro chat/side-call base URL ({region} allowed)", allowed: "an http(s) URL" },
  authUrl: { env: "KIRO_AUTH_URL", flag: "--auth-url", schema: url.optional(), help: "override the social-login refresh base URL ({region} allowed)", allowed: "an http(s) URL" },
  oidcUrl: { env: "KIRO_OIDC_URL", flag: "--oidc-url", schema: url.optional(), help: "override the IdC OIDC base URL ({region} allowed)", allowed: "an http(s) URL" },
  proxy: { env: "KIRO_PROXY", altEnv: "HTTPS_PROXY", flag: "--proxy", schema: url.optional(), help: "HTTP(S) proxy for upstream calls (KIRO_PROXY, else HTTPS_PROXY)", allowed: "an http(s) URL" },
  logLevel: { env: "LOG_LEVEL", flag: "--log-level", schema: z.enum(["debug", "info", "warn", "error"]).default("info"), help: "log verbosity", allowed: "debug, info, warn or error" },
  logFormat: { env: "LOG_FORMAT", flag: "--log-format", schema: z.enum(["pretty", "json"]).default("pretty"), help: "stdout log format", allowed: "pretty or json" },
  strategy: { env: "KIRO_STRATEGY", flag: "--strategy", schema: z.enum(["balanced", "round-robin", "priority"]).default("balanced"), help: "account selection strategy", allowed: "balanced, round-robin or priority" },
  modelFallback: { env: "KIRO_MODEL_FALLBACK", flag: "--model-fallback", schema: z.enum(["family", "strict"]).default("family"), help: "unlisted claude-opus/sonnet/haiku names: serve with the newest of the family, or refuse (strict)", allowed: "family or strict" },
  accountRpm: { env: "KIRO_ACCOUNT_RPM", flag: "--account-rpm", schema: z.coerce.number().int().min(0).max(10000).optional(), help: "requests one account may start per minute, 0 = no limit (default 20; Settings wins once saved)", allowed: "an integer 0-10000" },
  accountMinSpacingMs: { env: "KIRO_ACCOUNT_MIN_SPACING_MS", flag: "--account-min-spacing-ms", schema: z.coerce.number().int().min(0).max(600000).optional(), help: "least time between two requests on one account (default 1000)", allowed: "milliseconds 0-600000" },
  accountConcurrency: { env: "KIRO_ACCOUNT_CONCURRENCY", flag: "--account-concurrency", schema: z.coerce.number().int().min(1).max(64).optional(), help: "requests one account serves at once (default 2)", allowed: "an integer 1-64" },
  queueWaitMs: { env: "KIRO_QUEUE_WAIT_MS", flag: "--queue-wait-ms", schema: z.coerce.number().int().min(0).max(600000).optional(), help: "how long a request waits for a paced account before a 429 (default 30000)", allowed: "milliseconds 0-600000" },
  keepAliveMs: { env: "KIRO_KEEPALIVE_MS", flag: "--keepalive-ms", schema: z.coerce.number().int().min(1000).max(120000).default(10000), help: "keep-alive ping interval on quiet streams", allowed: "milliseconds 1000-120000" },
  shutdownGraceMs: { env: "KIRO_SHUTDOWN_GRACE_MS", flag: "--shutdown-grace-ms", schema: z.coerce.number().int().min(0).max(600000).default(15000), help: "how long in-flight requests may finish on shutdown", allowed: "milliseconds 0-600000" },
  // Claude Code sends base64 images (up to ~5 MB each) inside long conversations; the Messages API's
  // own request limit is 32 MB, so a bigger body could not be served upstream either.
  maxBodyMb: { env: "KIRO_MAX_BODY_MB", flag: "--max-body-mb", schema: z.coerce.number().min(1).max(1024).default(32), help: "largest request body accepted (MB); larger ones get the dialect's 413 before parsing", allowed: "megabytes 1-1024" },
  upstreamHttp: { env: "KIRO_UPSTREAM_HTTP", flag: "--upstream-http", schema: z.enum(["socket", "fetch"]).default("socket"), help: "client for the streamed chat call: socket (kept-alive HTTP/1.1 on the event loop, least CPU) or fetch; a proxy always uses fetch", allowed: "socket or fetch" },
  streamIdleMs: { env: "KIRO_STREAM_IDLE_MS", flag: "--stream-idle-ms", schema: z.coerce.number().int().min(100).max(3_600_000).default(245_000), help: "silence after which an upstream stream is given up (error event to the client)", allowed: "milliseconds 100-3600000" },
  maxUpstreamRequests: { env: "KIRO_MAX_UPSTREAM_REQUESTS", flag: "--max-upstream-requests", schema: z.coerce.number().int().min(1).max(65535).default(DEFAULT_UPSTREAM_REQUESTS), help: "upstream HTTP requests (streams included) open at once; more wait in a visible queue", allowed: "an integer 1-65535" },
  upstreamQueueMs: { env: "KIRO_UPSTREAM_QUEUE_MS", flag: "--upstream-queue-ms", schema: z.coerce.number().int().min(0).max(600_000).default(30_000), help: "longest wait for a free upstream connection before the request fails", allowed: "milliseconds 0-600000" },
} as const;

export type SettingName = keyof typeof SETTINGS;

export const configSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.schema])) as {
    [K in SettingName]: (typeof SETTINGS)[K]["schema"];
  },
);

export type AppConfig = z.infer<typeof configSchema> & { dbPath: string; instanceId: string };
