CREATE TABLE "account_fingerprints" (
	"fingerprint" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"label" text DEFAULT '' NOT NULL,
	"email" text,
	"user_id" text,
	"region" text DEFAULT 'us-east-1' NOT NULL,
	"auth_region" text,
	"profile_arn" text,
	"machine_id" text NOT NULL,
	"fingerprint" text NOT NULL,
	"refresh_token_enc" text NOT NULL,
	"access_token_enc" text,
	"access_expires_at" bigint,
	"client_id" text,
	"client_secret_enc" text,
	"proxy" text,
	"state" text DEFAULT 'active' NOT NULL,
	"state_reason" text,
	"state_until" bigint,
	"priority" integer DEFAULT 0 NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"last_used_at" bigint,
	"last_error" text,
	"last_error_at" bigint,
	"quota_json" text,
	"quota_fetched_at" bigint,
	"models_json" text,
	"models_fetched_at" bigint,
	"source" text DEFAULT 'panel' NOT NULL,
	"source_path" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "admin_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"csrf" text NOT NULL,
	"created_at" bigint NOT NULL,
	"last_seen" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "client_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"key_enc" text,
	"builtin" boolean DEFAULT false NOT NULL,
	"allowed_models" text,
	"expires_at" bigint,
	"monthly_token_budget" bigint,
	"rpm_limit" integer,
	"tpm_limit" integer,
	"concurrency_limit" integer,
	"tokens_this_month" bigint DEFAULT 0 NOT NULL,
	"budget_month" text,
	"requests" bigint DEFAULT 0 NOT NULL,
	"last_used_at" bigint,
	"revoked_at" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "request_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"at" bigint NOT NULL,
	"client_key_id" text,
	"client_key_name" text,
	"dialect" text NOT NULL,
	"model" text,
	"account_id" text,
	"account_label" text,
	"stream" boolean DEFAULT false NOT NULL,
	"status" integer NOT NULL,
	"error_type" text,
	"error_message" text,
	"latency_ms" integer,
	"ttft_ms" integer,
	"input_tokens" integer,
	"output_tokens" integer,
	"cached_tokens" integer,
	"credits" double precision,
	"attempts" integer DEFAULT 1 NOT NULL,
	"stop_reason" text,
	"request_body" text,
	"instance_id" text
);
--> statement-breakpoint
CREATE TABLE "request_rollup" (
	"step" bigint NOT NULL,
	"dim" text NOT NULL,
	"bucket" bigint NOT NULL,
	"value" text NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_tokens" bigint DEFAULT 0 NOT NULL,
	"latency_ms_sum" bigint DEFAULT 0 NOT NULL,
	"latency_count" bigint DEFAULT 0 NOT NULL,
	"credits" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "request_rollup_step_dim_bucket_value_pk" PRIMARY KEY("step","dim","bucket","value")
);
--> statement-breakpoint
CREATE TABLE "rollup_cursor" (
	"name" text PRIMARY KEY NOT NULL,
	"last_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stored_responses" (
	"id" text PRIMARY KEY NOT NULL,
	"client_key_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	"response_json" text NOT NULL,
	"input_json" text NOT NULL,
	"output_json" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "account_fingerprints_account" ON "account_fingerprints" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_fingerprint" ON "accounts" USING btree ("fingerprint");--> statement-breakpoint
CREATE INDEX "accounts_email" ON "accounts" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "client_keys_hash" ON "client_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "request_log_at" ON "request_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "request_log_account" ON "request_log" USING btree ("account_id","at");--> statement-breakpoint
CREATE INDEX "request_log_key" ON "request_log" USING btree ("client_key_id","at");--> statement-breakpoint
CREATE INDEX "request_log_status" ON "request_log" USING btree ("status","at");--> statement-breakpoint
CREATE UNIQUE INDEX "request_log_origin" ON "request_log" USING btree ("instance_id","request_id","at");--> statement-breakpoint
CREATE INDEX "stored_responses_key" ON "stored_responses" USING btree ("client_key_id","created_at");--> statement-breakpoint
CREATE INDEX "stored_responses_expiry" ON "stored_responses" USING btree ("expires_at");