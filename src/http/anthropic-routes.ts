import { Elysia } from "elysia";
import type { Services } from "../services";

/** Anthropic Messages API (/v1/messages, /v1/messages/count_tokens). */
export const anthropicRoutes = (_s: Services) => new Elysia({ name: "anthropic-routes" });
