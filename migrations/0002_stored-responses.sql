CREATE TABLE `stored_responses` (
	`id` text PRIMARY KEY NOT NULL,
	`client_key_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`bytes` integer NOT NULL,
	`response_json` text NOT NULL,
	`input_json` text NOT NULL,
	`output_json` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `stored_responses_key` ON `stored_responses` (`client_key_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `stored_responses_expiry` ON `stored_responses` (`expires_at`);