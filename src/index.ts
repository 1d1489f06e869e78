#!/usr/bin/env bun
/**
 * The executable's entry. Bun's fetch limit can only be raised by starting the process again with
 * BUN_CONFIG_MAX_HTTP_REQUESTS set (src/kiro/fetch-limit.ts); that happens here, before the rest of
 * the program is loaded, so the first start costs Bun's own start-up and not the whole module
 * graph's evaluation. Everything else lives in ./main.ts.
 */
import { raiseFetchLimitEarly } from "./kiro/fetch-limit";

await raiseFetchLimitEarly(process.argv.slice(2));
await import("./main");
