import { pgTable, text, bigint, bigserial, integer, doublePrecision, boolean, index, uniqueIndex, primaryKey } from "drizzle-orm/pg-core";

/**
 * The PostgreSQL twin of src/db/schema.ts (SQLite): same tables, same column names, same
 * indexes, so one set of store queries and `migrate-store` can move rows between them.
 * tests/store-pg/schema-parity.test.ts fails when the two drift; the few columns that exist
 * only here are listed there with the reason.
 *
 * Type mapping: SQLite integer times and counters → bigint (epoch milliseconds pass 2^31), read as
 * JavaScript numbers; integer booleans → boolean; real → double precision. `Enc` columns hold
 * AES-256-GCM ciphertext exactly as on SQLite (the same SecretBox format).
 */
const ms = (name: string) => bigint(name, { mode: "number" });
const count = (name: string) => bigint(name, { mode: "number" });

export const accounts = pgTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["social", "idc", "api_key"] }).notNull(),
    label: text("label").notNull().default(""),
    email: text("email"),
    userId: text("user_id"),
    region: text("region").notNull().default("us-east-1"),
    authRegion: text("auth_region"),
    profileArn: text("profile_arn"),
    machineId: text("machine_id").notNull(),
    /** sha256 of the refresh token, first 16 hex: de-duplication key and the only thing ever shown. */
    fingerprint: text("fingerprint").notNull(),
    refreshTokenEnc: text("refresh_token_enc").notNull(),
    accessTokenEnc: text("access_token_enc"),
    accessExpiresAt: ms("access_expires_at"),
    clientId: text("client_id"),
    clientSecretEnc: text("client_secret_enc"),
    proxy: text("proxy"),
    state: text("state", { enum: ["active", "cooling", "exhausted", "disabled"] }).notNull().default("active"),
    stateReason: text("state_reason"),
    stateUntil: ms("state_until"),
    priority: integer("priority").notNull().default(0),
    requests: count("requests").notNull().default(0),
    errors: count("errors").notNull().default(0),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    lastUsedAt: ms("last_used_at"),
    lastError: text("last_error"),
    lastErrorAt: ms("last_error_at"),
    quotaJson: text("quota_json"),
    quotaFetchedAt: ms("quota_fetched_at"),
    /** The account's last ListAvailableModels answer (JSON array). */
    modelsJson: text("models_json"),
    modelsFetchedAt: ms("models_fetched_at"),
    source: text("source").notNull().default("panel"),
    sourcePath: text("source_path"),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  },
  (t) => [uniqueIndex("accounts_fingerprint").on(t.fingerprint), index("accounts_email").on(t.email)],
);

export const clientKeys = pgTable(
  "client_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** sha256 hex of the key: what requests are checked against. */
    keyHash: text("key_hash").notNull(),
    /** First characters, shown in lists so people can tell keys apart. */
    keyPrefix: text("key_prefix").notNull(),
    /** Encrypted copy only for the built-in key, so the panel can show it with a copy button. */
    keyEnc: text("key_enc"),
    builtin: boolean("builtin").notNull().default(false),
    allowedModels: text("allowed_models"), // JSON array or null = all
    expiresAt: ms("expires_at"),
    monthlyTokenBudget: count("monthly_token_budget"),
    rpmLimit: integer("rpm_limit"),
    tpmLimit: integer("tpm_limit"),
    concurrencyLimit: integer("concurrency_limit"),
    tokensThisMonth: count("tokens_this_month").notNull().default(0),
    budgetMonth: text("budget_month"), // "2026-11": which month tokensThisMonth counts
    requests: count("requests").notNull().default(0),
    lastUsedAt: ms("last_used_at"),
    revokedAt: ms("revoked_at"),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [uniqueIndex("client_keys_hash").on(t.keyHash)],
);

export const requestLog = pgTable(
  "request_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    requestId: text("request_id").notNull(),
    at: ms("at").notNull(),
    clientKeyId: text("client_key_id"),
    clientKeyName: text("client_key_name"),
    dialect: text("dialect").notNull(),
    model: text("model"),
    accountId: text("account_id"),
    accountLabel: text("account_label"),
    stream: boolean("stream").notNull().default(false),
    status: integer("status").notNull(),
    errorType: text("error_type"),
    errorMessage: text("error_message"),
    latencyMs: integer("latency_ms"),
    ttftMs: integer("ttft_ms"),
    inputTokens: integer("input_tokens"),
    outputTokens: integer("output_tokens"),
    cachedTokens: integer("cached_tokens"),
    credits: doublePrecision("credits"),
    attempts: integer("attempts").notNull().default(1),
    stopReason: text("stop_reason"),
    /** Only when request-body logging is switched on in settings. */
    requestBody: text("request_body"),
    /** Which kiro-server instance served the request (KIRO_INSTANCE_ID); "sqlite-import" for rows copied by `migrate-store`. */
    instanceId: text("instance_id"),
  },
  (t) => [
    index("request_log_at").on(t.at),
    index("request_log_account").on(t.accountId, t.at),
    index("request_log_key").on(t.clientKeyId, t.at),
    index("request_log_status").on(t.status, t.at),
    // Makes re-running `migrate-store` idempotent: a copied row is found again by where it came from.
    uniqueIndex("request_log_origin").on(t.instanceId, t.requestId, t.at),
  ],
);

/** Small key/value settings (JSON values) and server-generated secrets (encrypted values). */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: ms("updated_at").notNull(),
});

/**
 * Every refresh-token fingerprint an account ever had (imported or rotated away from). Re-importing
 * an old copy of a token then finds the account instead of adding a dead duplicate.
 */
export const accountFingerprints = pgTable(
  "account_fingerprints",
  {
    fingerprint: text("fingerprint").primaryKey(),
    accountId: text("account_id").notNull(),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [index("account_fingerprints_account").on(t.accountId)],
);

/** Stored OpenAI Responses (twin of stored_responses in src/db/schema.ts). */
export const storedResponses = pgTable(
  "stored_responses",
  {
    id: text("id").primaryKey(),
    clientKeyId: text("client_key_id").notNull(),
    createdAt: ms("created_at").notNull(),
    expiresAt: ms("expires_at").notNull(),
    bytes: count("bytes").notNull(),
    responseJson: text("response_json").notNull(),
    inputJson: text("input_json").notNull(),
    outputJson: text("output_json").notNull(),
  },
  // Reads and deletes go by id (the primary key); pruning by expiry. No index by key: nothing
  // queries by it, and each index is one more page written per stored response.
  (t) => [index("stored_responses_expiry").on(t.expiresAt)],
);

/** Request-log aggregates for the panel's usage charts (twin of request_rollup in src/db/schema.ts). */
export const requestRollup = pgTable(
  "request_rollup",
  {
    step: ms("step").notNull(),
    dim: text("dim", { enum: ["total", "model", "account", "key"] }).notNull(),
    bucket: ms("bucket").notNull(),
    value: text("value").notNull(),
    requests: count("requests").notNull().default(0),
    errors: count("errors").notNull().default(0),
    inputTokens: count("input_tokens").notNull().default(0),
    outputTokens: count("output_tokens").notNull().default(0),
    cachedTokens: count("cached_tokens").notNull().default(0),
    latencyMsSum: count("latency_ms_sum").notNull().default(0),
    latencyCount: count("latency_count").notNull().default(0),
    credits: doublePrecision("credits").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.step, t.dim, t.bucket, t.value] })],
);

/** How far request_rollup has read request_log (twin of rollup_cursor). */
export const rollupCursor = pgTable("rollup_cursor", {
  name: text("name").primaryKey(),
  lastId: count("last_id").notNull(),
});

/**
 * Admin panel sessions shared by every instance (PostgreSQL only: one SQLite process keeps them
 * in memory). `id` is the random session id the cookie carries (signed with a key derived from
 * KIRO_SECRET_KEY, so every instance checks the same signature).
 */
export const adminSessions = pgTable("admin_sessions", {
  id: text("id").primaryKey(),
  csrf: text("csrf").notNull(),
  createdAt: ms("created_at").notNull(),
  lastSeen: ms("last_seen").notNull(),
});
