ALTER TABLE `accounts` ADD `models_json` text;--> statement-breakpoint
ALTER TABLE `accounts` ADD `models_fetched_at` integer;