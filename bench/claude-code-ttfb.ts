/**
 * Time to first byte for a Claude Code-sized request (the recorded 47 KB fixture, 13 tools) through
 * POST /v1/messages against the fake Kiro, 30 turns each adding a new user message. Prompt token
 * counting is cached per segment and overlaps the upstream call, so it no longer adds to TTFB.
 *
 *   bun bench/claude-code-ttfb.ts
 */
import { startE2E } from "../tests/support/e2e";
import { readFileSync } from "node:fs";
const fx = JSON.parse(readFileSync(new URL("../tests/fixtures/claude-code/messages-adaptive.json", import.meta.url).pathname, "utf8"));
const e = await startE2E();
const times: number[] = [];
for (let i = 0; i < 30; i++) {
  // Vary the last message so per-turn content is new, like a real conversation turn.
  const body = structuredClone(fx); body.stream = true;
  body.messages.push({ role: "user", content: `turn ${i} ${"new text ".repeat(200)}` });
  const t0 = performance.now();
  const r = await fetch(`${e.url}/v1/messages?beta=true`, { method: "POST", headers: { "x-api-key": e.clientKey, "content-type": "application/json", "anthropic-version": "2023-06-01" }, body: JSON.stringify(body) });
  const rd = r.body!.getReader(); await rd.read(); times.push(performance.now() - t0);
  await rd.cancel();
}
times.sort((a, b) => a - b);
console.log(`Claude Code fixture (${(JSON.stringify(fx).length / 1024).toFixed(0)} KB): TTFB p50 ${times[15].toFixed(2)} ms, p90 ${times[27].toFixed(2)} ms`);
await e.stop();
