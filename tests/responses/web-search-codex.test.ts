/**
 * The real Codex CLI (@openai/codex, the version in package.json, offline) with web search: Codex declares its hosted
 * `web_search` tool on every turn; kiro-server serves it through Kiro's MCP search. A turn where
 * the model searches ends with Codex printing the answer built from the results, and the
 * `web_search_call` item reaches Codex. Set up by tests/support/codex.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { textScenario } from "../fake-kiro/scenarios";
import { codexAvailable, startCodex, type Codex } from "../support/codex";
import { startE2E, type E2E } from "../support/e2e";

const QUERY = "kiro server release notes";

const available = codexAvailable("tests/responses/web-search-codex.test.ts");

let e: E2E;
let codex: Codex;

beforeAll(async () => {
  if (!available) return;
  e = await startE2E();
  codex = await startCodex(e, "codex-ws");
}, 30_000);

afterAll(async () => {
  if (!available) return;
  await e?.stop();
  codex?.stop();
}, 30_000);

const responsesCalls = () => e.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse"));

describe.skipIf(!available)("Codex CLI with web search", () => {
  test("a turn where the model searches: Codex gets the search item and prints the answer from the results", async () => {
    const before = responsesCalls().length;
    const r = await codex.exec(`[[fake:web_answer]] ${QUERY}`, { json: true });
    expect(r.code).toBe(0);
    const hits = fakeSearchHits(QUERY);
    const events = r.stdout.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
    const items = events.filter((ev) => ev.type === "item.completed").map((ev) => ev.item);
    const search = items.find((it) => it.type === "web_search");
    expect(search?.query).toBe(QUERY);
    const answer = items.filter((it) => it.type === "agent_message").at(-1);
    expect(answer.text).toBe(`Answer from the web search: ${hits.map((h) => h.url).join(" ")}`);
    // Two upstream rounds: the model's search call, then the answer with the results.
    const rounds = responsesCalls().slice(before);
    expect(rounds).toHaveLength(2);
    const declared = (rounds[0]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools.map((t: any) => t.toolSpecification.name);
    expect(declared).toContain("web_search");
    expect(declared).toContain("exec_command");
  }, 90_000);

  test("a turn without a search is unchanged: one upstream round, the plain answer", async () => {
    const before = responsesCalls().length;
    e.fake.enqueue(textScenario("No search needed."));
    const r = await codex.exec("say hello", { json: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No search needed.");
    expect(responsesCalls().length - before).toBe(1);
  }, 90_000);
});
