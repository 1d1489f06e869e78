/**
 * The dialects this server speaks. Adding one = a folder under src/dialects/ exporting a Dialect,
 * plus one line in DIALECTS; src/http/dialect-route.ts serves it (auth, decode, turn, JSON/SSE,
 * and the dialect's further routes). A line is a factory over the services, called once per
 * server, so a dialect that keeps state (a store, its notices) gets what it needs here.
 */
import { Elysia } from "elysia";
import { anthropicDialect } from "../dialects/anthropic/dialect";
import type { Dialect } from "../dialects/dialect";
import { openaiDialect } from "../dialects/openai/dialect";
import { responsesDialect } from "../dialects/responses/dialect";
import type { Services } from "../services";
import { dialectRoute } from "./dialect-route";
import { IdleTrim, memoryTrim } from "./idle-trim";
import { modelsRoute } from "./models-route";

/** Builds one registered dialect for a server. */
export type DialectFactory = (s: Services) => Dialect<unknown>;

export const DIALECTS: readonly DialectFactory[] = [
  () => anthropicDialect,
  () => openaiDialect,
  (s) => responsesDialect({ storage: s.responses, settings: s.settings, log: s.log }),
];

export type DialectRoutesOptions = {
  /** Silence after which a stream gets its keep-alive text (ms); default: config.keepAliveMs. */
  keepAliveMs?: number;
};

/** Every client-facing /v1 route: one dialect route per registered dialect (its token count included) and the model list. */
export function dialectRoutes(s: Services, opts: DialectRoutesOptions = {}) {
  const keepAliveMs = opts.keepAliveMs ?? s.config.keepAliveMs;
  const plugin = new Elysia({ name: "dialect-routes" });
  const idle = new IdleTrim({ quiet: s.onQuiet }, memoryTrim(s.db.$client));
  plugin.onStop(() => idle.stop());
  for (const make of DIALECTS) plugin.use(dialectRoute(s, make(s), { keepAliveMs, idle }));
  return plugin.use(modelsRoute(s));
}
