ALTER TABLE `client_keys` ADD `rpm_limit` integer;--> statement-breakpoint
ALTER TABLE `client_keys` ADD `tpm_limit` integer;--> statement-breakpoint
ALTER TABLE `client_keys` ADD `concurrency_limit` integer;