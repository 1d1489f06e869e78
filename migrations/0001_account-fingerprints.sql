CREATE TABLE `account_fingerprints` (
	`fingerprint` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `account_fingerprints_account` ON `account_fingerprints` (`account_id`);