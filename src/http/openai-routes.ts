import { Elysia } from "elysia";
import type { Services } from "../services";

/** OpenAI Chat Completions and models (/v1/chat/completions, /v1/models). */
export const openaiRoutes = (_s: Services) => new Elysia({ name: "openai-routes" });
