CREATE TABLE "admin_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"csrf" text NOT NULL,
	"created_at" bigint NOT NULL,
	"last_seen" bigint NOT NULL
);
