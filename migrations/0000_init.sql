CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`label` text DEFAULT '' NOT NULL,
	`email` text,
	`user_id` text,
	`region` text DEFAULT 'us-east-1' NOT NULL,
	`auth_region` text,
	`profile_arn` text,
	`machine_id` text NOT NULL,
	`fingerprint` text NOT NULL,
	`refresh_token_enc` text NOT NULL,
	`access_token_enc` text,
	`access_expires_at` integer,
	`client_id` text,
	`client_secret_enc` text,
	`proxy` text,
	`state` text DEFAULT 'active' NOT NULL,
	`state_reason` text,
	`state_until` integer,
	`priority` integer DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`last_used_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`quota_json` text,
	`quota_fetched_at` integer,
	`source` text DEFAULT 'panel' NOT NULL,
	`source_path` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_fingerprint` ON `accounts` (`fingerprint`);--> statement-breakpoint
CREATE INDEX `accounts_email` ON `accounts` (`email`);--> statement-breakpoint
CREATE TABLE `client_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`key_enc` text,
	`builtin` integer DEFAULT false NOT NULL,
	`allowed_models` text,
	`expires_at` integer,
	`monthly_token_budget` integer,
	`tokens_this_month` integer DEFAULT 0 NOT NULL,
	`budget_month` text,
	`requests` integer DEFAULT 0 NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `client_keys_hash` ON `client_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `request_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`at` integer NOT NULL,
	`client_key_id` text,
	`client_key_name` text,
	`dialect` text NOT NULL,
	`model` text,
	`account_id` text,
	`account_label` text,
	`stream` integer DEFAULT false NOT NULL,
	`status` integer NOT NULL,
	`error_type` text,
	`error_message` text,
	`latency_ms` integer,
	`ttft_ms` integer,
	`input_tokens` integer,
	`output_tokens` integer,
	`credits` real,
	`attempts` integer DEFAULT 1 NOT NULL,
	`stop_reason` text,
	`request_body` text
);
--> statement-breakpoint
CREATE INDEX `request_log_at` ON `request_log` (`at`);--> statement-breakpoint
CREATE INDEX `request_log_account` ON `request_log` (`account_id`,`at`);--> statement-breakpoint
CREATE INDEX `request_log_key` ON `request_log` (`client_key_id`,`at`);--> statement-breakpoint
CREATE INDEX `request_log_status` ON `request_log` (`status`,`at`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
