CREATE TABLE `request_rollup` (
	`step` integer NOT NULL,
	`dim` text NOT NULL,
	`bucket` integer NOT NULL,
	`value` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`latency_ms_sum` integer DEFAULT 0 NOT NULL,
	`latency_count` integer DEFAULT 0 NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`step`, `dim`, `bucket`, `value`)
);
--> statement-breakpoint
CREATE TABLE `rollup_cursor` (
	`name` text PRIMARY KEY NOT NULL,
	`last_id` integer NOT NULL
);
