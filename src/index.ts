#!/usr/bin/env bun
/**
 * The executable's entry. Bun's fetch limit can only be raised by starting the process again with
 * BUN_CONFIG_MAX_HTTP_REQUESTS set (src/kiro/fetch-limit.ts); that happens here, before the rest of
 * the program is loaded, so the first start costs Bun's own start-up and not the whole module
 * graph's evaluation. The restarted process also gets the runtime settings of ./runtime-env.ts
 * (read by Bun only at start, like the fetch limit). Everything else lives in ./main.ts.
 */
import { raiseFetchLimitEarly } from "./kiro/fetch-limit";
import { withRuntimeDefaults } from "./runtime-env";

await raiseFetchLimitEarly(process.argv.slice(2), withRuntimeDefaults(process.env));
await import("./main");
