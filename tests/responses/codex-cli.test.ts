/**
 * The real Codex CLI (@openai/codex, the version in package.json, offline) against kiro-server and the fake Kiro: set up
 * by `kiro-server codex-config` (provider + model catalogue), then `codex exec` completes a text
 * answer, a shell tool call whose output goes back to the model, and an apply_patch that creates
 * a file. The model side is scripted with the fake's queued scenarios.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { textScenario, toolScenario } from "../fake-kiro/scenarios";
import { codexAvailable, codexConfig, startCodex, type Codex } from "../support/codex";
import { startE2E, type E2E } from "../support/e2e";

const available = codexAvailable("tests/responses/codex-cli.test.ts");

let e: E2E;
let codex: Codex;

beforeAll(async () => {
  if (!available) return;
  e = await startE2E();
  codex = await startCodex(e, "codex");
}, 30_000);

afterAll(async () => {
  if (!available) return;
  await e?.stop();
  codex?.stop();
}, 30_000);

/** The Responses requests Codex sent, as the fake Kiro received their translations. */
const chatRequests = () => e.fake.requests.filter((r) => r.path.endsWith("generateAssistantResponse") || String(r.headers["x-amz-target"] ?? "").endsWith("GenerateAssistantResponse"));

describe.skipIf(!available)("Codex CLI through /v1/responses", () => {
  test("text answer", async () => {
    e.fake.enqueue(textScenario("Hello from the Kiro side."));
    const r = await codex.exec("say hello");
    expect(r.stderr).not.toContain("Model metadata for");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Hello from the Kiro side.");
  }, 90_000);

  test("shell tool call: the command's output goes back to the model", async () => {
    const before = chatRequests().length;
    e.fake.enqueue(toolScenario([{ name: "exec_command", input: { cmd: "echo kiro-$((6*7))" } }]));
    e.fake.enqueue(textScenario("The command printed kiro-42."));
    const r = await codex.exec("run a shell command");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("The command printed kiro-42.");
    const sent = chatRequests().slice(before);
    expect(sent.length).toBe(2);
    // The second turn carries the tool result with the real output of the command.
    const second = JSON.stringify(sent[1]!.body);
    expect(second).toContain("kiro-42");
    expect(second).toContain("toolResults");
  }, 90_000);

  test("apply_patch (freeform tool) creates a file", async () => {
    const before = chatRequests().length;
    const patch = "*** Begin Patch\n*** Add File: hello.txt\n+hello from kiro\n*** End Patch\n";
    e.fake.enqueue(toolScenario([{ name: "apply_patch", input: { input: patch } }]));
    e.fake.enqueue(textScenario("Created hello.txt."));
    const r = await codex.exec("create hello.txt using apply_patch");
    expect(r.code).toBe(0);
    expect(readFileSync(join(codex.work, "hello.txt"), "utf8")).toBe("hello from kiro\n");
    // Codex declared apply_patch as a freeform tool (catalogue from codex-config), exposed upstream with one `input` string.
    const first = chatRequests()[before]!.body as any;
    const tools: any[] = first.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools;
    const ap = tools.find((t) => t.toolSpecification.name === "apply_patch");
    expect(ap.toolSpecification.inputSchema.json.required).toEqual(["input"]);
    expect(r.stdout).toContain("Created hello.txt.");
  }, 90_000);

  test("prompt too long → Codex's own context-window message, no retry loop", async () => {
    const before = chatRequests().length;
    e.accounts[0]!.behaviour.inputTooLong = true;
    try {
      const r = await codex.exec("say hello");
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toContain("ran out of room in the model's context window");
      expect(chatRequests().length - before).toBe(1);
    } finally {
      e.accounts[0]!.behaviour.inputTooLong = false;
    }
  }, 90_000);

  test("automatic compaction: the reported usage triggers it and the compaction request succeeds", async () => {
    // A second CODEX_HOME whose compaction threshold is below one Codex prompt.
    const small = mkdtempSync(join(tmpdir(), "kiro-codex-compact-"));
    try {
      await codexConfig(e, small);
      const cfg = join(small, "config.toml");
      writeFileSync(cfg, `model_auto_compact_token_limit = 3000\n${readFileSync(cfg, "utf8")}request_max_retries = 0\nstream_max_retries = 0\n`);
      const before = chatRequests().length;
      e.fake.enqueue(toolScenario([{ name: "exec_command", input: { cmd: "echo one" } }]));
      e.fake.enqueue(textScenario("SUMMARY: ran echo one."));
      e.fake.enqueue(textScenario("Finished after compaction."));
      const r = await codex.exec("run echo one", { home: small });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Finished after compaction.");
      const sent = chatRequests().slice(before).map((q) => (q.body as any).conversationState);
      expect(sent).toHaveLength(3);
      // The compaction request: Codex's checkpoint prompt and no tools of its own (it sends tools [] with
      // tool_choice "auto"); upstream only sees the placeholder the history's earlier call needs.
      expect(sent[1].currentMessage.userInputMessage.content).toContain("CONTEXT CHECKPOINT COMPACTION");
      const specs = sent[1].currentMessage.userInputMessage.userInputMessageContext.tools.map((t: any) => t.toolSpecification);
      expect(specs.map((t: any) => [t.name, t.description])).toEqual([["exec_command", "Placeholder for a tool used earlier in this conversation."]]);
      // The continuation starts from the summary.
      expect(JSON.stringify(sent[2])).toContain("SUMMARY: ran echo one.");
    } finally {
      rmSync(small, { recursive: true, force: true });
    }
  }, 90_000);
});
