import { sqliteTable, text, integer, real, index, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";

/**
 * All persistent state. Columns ending in `Enc` hold AES-256-GCM ciphertext (src/crypto/secret-box.ts),
 * never plaintext. Times are epoch milliseconds.
 */

export const accounts = sqliteTable(
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
    accessExpiresAt: integer("access_expires_at"),
    clientId: text("client_id"),
    clientSecretEnc: text("client_secret_enc"),
    proxy: text("proxy"),
    state: text("state", { enum: ["active", "cooling", "exhausted", "disabled"] }).notNull().default("active"),
    stateReason: text("state_reason"),
    stateUntil: integer("state_until"),
    priority: integer("priority").notNull().default(0),
    requests: integer("requests").notNull().default(0),
    errors: integer("errors").notNull().default(0),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    lastUsedAt: integer("last_used_at"),
    lastError: text("last_error"),
    lastErrorAt: integer("last_error_at"),
    quotaJson: text("quota_json"),
    quotaFetchedAt: integer("quota_fetched_at"),
    /** The account's last ListAvailableModels answer: JSON array of {id, displayName?, maxInputTokens?, maxOutputTokens?}. */
    modelsJson: text("models_json"),
    modelsFetchedAt: integer("models_fetched_at"),
    source: text("source").notNull().default("panel"),
    sourcePath: text("source_path"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("accounts_fingerprint").on(t.fingerprint), index("accounts_email").on(t.email)],
);

export const clientKeys = sqliteTable(
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
    builtin: integer("builtin", { mode: "boolean" }).notNull().default(false),
    allowedModels: text("allowed_models"), // JSON array or null = all
    expiresAt: integer("expires_at"),
    monthlyTokenBudget: integer("monthly_token_budget"),
    /** Rate limits of this key (null = none): requests per minute, tokens per minute, requests at once (src/keys/limiter.ts). */
    rpmLimit: integer("rpm_limit"),
    tpmLimit: integer("tpm_limit"),
    concurrencyLimit: integer("concurrency_limit"),
    tokensThisMonth: integer("tokens_this_month").notNull().default(0),
    budgetMonth: text("budget_month"), // "2026-11": which month tokensThisMonth counts
    requests: integer("requests").notNull().default(0),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("client_keys_hash").on(t.keyHash)],
);

export const requestLog = sqliteTable(
  "request_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id").notNull(),
    at: integer("at").notNull(),
    clientKeyId: text("client_key_id"),
    clientKeyName: text("client_key_name"),
    dialect: text("dialect").notNull(),
    model: text("model"),
    accountId: text("account_id"),
    accountLabel: text("account_label"),
    stream: integer("stream", { mode: "boolean" }).notNull().default(false),
    status: integer("status").notNull(),
    errorType: text("error_type"),
    errorMessage: text("error_message"),
    latencyMs: integer("latency_ms"),
    ttftMs: integer("ttft_ms"),
    inputTokens: integer("input_tokens"),
    outputTokens: integer("output_tokens"),
    /** Input tokens served from the upstream's prompt cache (part of the input, as the client's usage reports it). */
    cachedTokens: integer("cached_tokens"),
    credits: real("credits"),
    attempts: integer("attempts").notNull().default(1),
    stopReason: text("stop_reason"),
    /** Only when request-body logging is switched on in settings. */
    requestBody: text("request_body"),
  },
  (t) => [
    index("request_log_at").on(t.at),
    index("request_log_account").on(t.accountId, t.at),
    index("request_log_key").on(t.clientKeyId, t.at),
    index("request_log_status").on(t.status, t.at),
  ],
);

/** Small key/value settings (JSON values) and server-generated secrets (encrypted values). */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Every refresh-token fingerprint an account ever had (imported or rotated away from). Re-importing
 * an old copy of a token (KIRO_AUTH_TOKEN at each start, an IDE file) then finds the account
 * instead of adding a dead duplicate.
 */
export const accountFingerprints = sqliteTable(
  "account_fingerprints",
  {
    fingerprint: text("fingerprint").primaryKey(),
    accountId: text("account_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("account_fingerprints_account").on(t.accountId)],
);

/**
 * Stored OpenAI Responses (`store` true, the default): what `previous_response_id`,
 * `GET /v1/responses/{id}` and `…/input_items` read. Scoped to the client key that created them;
 * removed after their expiry and, oldest first, when the table outgrows its size cap
 * (src/db/responses-store.ts).
 */
export const storedResponses = sqliteTable(
  "stored_responses",
  {
    id: text("id").primaryKey(),
    clientKeyId: text("client_key_id").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /** Length of the three JSON columns together (what the size cap counts). */
    bytes: integer("bytes").notNull(),
    /** The response object as the client received it. */
    responseJson: text("response_json").notNull(),
    /** Every input item the response was generated from (inherited ones included), with ids. */
    inputJson: text("input_json").notNull(),
    /** The output items in the form a continuation replays (reasoning keeps its signed content). */
    outputJson: text("output_json").notNull(),
  },
  // Reads and deletes go by id (the primary key); pruning by expiry. No index by key: nothing
  // queries by it, and each index is one more page written per stored response.
  (t) => [index("stored_responses_expiry").on(t.expiresAt)],
);

/**
 * Request-log aggregates for the panel's usage charts (src/logs/request-rollup.ts): per time bucket
 * (`step` = one minute, hour or day in ms; `bucket` = its start) and per dimension (`dim` = "total",
 * "model", "account" or "key"; `value` = the model name, account id or client-key id, "" for total
 * or unknown). Built from request_log rows past the cursor, so pages read thousands of rows, not millions.
 */
export const requestRollup = sqliteTable(
  "request_rollup",
  {
    step: integer("step").notNull(),
    dim: text("dim", { enum: ["total", "model", "account", "key"] }).notNull(),
    bucket: integer("bucket").notNull(),
    value: text("value").notNull(),
    requests: integer("requests").notNull().default(0),
    errors: integer("errors").notNull().default(0),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    cachedTokens: integer("cached_tokens").notNull().default(0),
    latencyMsSum: integer("latency_ms_sum").notNull().default(0),
    latencyCount: integer("latency_count").notNull().default(0),
    credits: real("credits").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.step, t.dim, t.bucket, t.value] })],
);

/** How far request_rollup has read request_log: the last row id counted (one row, name "request_log"). */
export const rollupCursor = sqliteTable("rollup_cursor", {
  name: text("name").primaryKey(),
  lastId: integer("last_id").notNull(),
});
