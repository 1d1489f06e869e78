ALTER TABLE `request_log` ADD `cached_tokens` integer;--> statement-breakpoint
ALTER TABLE `request_rollup` ADD `cached_tokens` integer DEFAULT 0 NOT NULL;