/**
 * The dialects this server speaks. Adding one = a folder under src/dialects/ exporting a Dialect,
 * plus one line in DIALECTS; src/http/dialect-route.ts serves it (auth, decode, turn, JSON/SSE).
 */
import { Elysia } from "elysia";
import { anthropicDialect } from "../dialects/anthropic/dialect";
import type { Dialect } from "../dialects/dialect";
import { openaiDialect } from "../dialects/openai/dialect";
import type { Services } from "../services";
import { countTokensRoute } from "./count-tokens-route";
import { dialectRoute } from "./dialect-route";
import { modelsRoute } from "./models-route";

export const DIALECTS: readonly Dialect<unknown>[] = [
  anthropicDialect,
  openaiDialect,
];

export type DialectRoutesOptions = {
  /** Silence after which a stream gets its keep-alive text (ms); default: config.keepAliveMs. */
  keepAliveMs?: number;
};

/** Every client-facing /v1 route: one dialect route per registered dialect, count_tokens and the model list. */
export function dialectRoutes(s: Services, opts: DialectRoutesOptions = {}) {
  const keepAliveMs = opts.keepAliveMs ?? s.config.keepAliveMs;
  const plugin = new Elysia({ name: "dialect-routes" });
  for (const d of DIALECTS) plugin.use(dialectRoute(s, d, { keepAliveMs }));
  return plugin.use(countTokensRoute(s)).use(modelsRoute(s));
}
