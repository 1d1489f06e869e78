/**
 * What a chat call is answered with, besides the queues: the built-in `[[fake:NAME]]` directives
 * (the list in server.ts's opening comment; more in directives.ts), the current user text they
 * are read from, and the per-request context-usage percentage patched into scenarios that ask
 * for it.
 */
import {
  abruptCloseScenario,
  badCrcScenario,
  contentLengthScenario,
  errorFrameScenario,
  exceptionScenario,
  longScenario,
  parallelToolScenario,
  reasoningScenario,
  stallScenario,
  textScenario,
  thinkingTagScenario,
  toolScenario,
  usageScenario,
  type Scenario,
} from "./scenarios";
import { extraDirectiveScenario } from "./directives";

/**
 * Like the real service, report context usage for *this* request: (prompt + answer) / window.
 * The prompt is approximated from the request JSON (≈ 4 characters per token; the real count
 * also includes the service's own system prompt, which a proxy cannot see either).
 */
export function withRealContextUsage(scenario: Scenario, body: any): Scenario {
  if (!scenario.steps.some((st) => "autoContextUsage" in st && st.autoContextUsage)) return scenario;
  const modelId: string = body?.conversationState?.currentMessage?.userInputMessage?.modelId ?? "";
  const window = /4\.[678]|opus-4\.6|sonnet-4\.6/.test(modelId) ? 1_000_000 : 200_000;
  const promptTokens = Math.ceil(JSON.stringify(body?.conversationState ?? {}).length / 4);
  let answerChars = 0;
  for (const st of scenario.steps) if ("event" in st && st.event === "assistantResponseEvent") answerChars += String((st.payload as { content?: string }).content ?? "").length;
  const pct = Math.min(100, ((promptTokens + Math.ceil(answerChars / 4)) / window) * 100);
  return {
    ...scenario,
    steps: scenario.steps.map((st) =>
      "autoContextUsage" in st && st.autoContextUsage ? { event: st.event, payload: { contextUsagePercentage: Number(pct.toFixed(4)) } } : st,
    ),
  };
}

/** The text of the current user message ("" when it has none). */
export function lastUserText(body: any): string {
  const cur = body?.conversationState?.currentMessage?.userInputMessage?.content;
  return typeof cur === "string" ? cur : "";
}

/** Fills the required fields of a JSON schema so SDK clients get a plausible tool input. */
function sampleInput(schema: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = (schema && typeof schema === "object" && schema.properties) || {};
  for (const key of Array.isArray(schema?.required) ? schema.required : []) {
    const t = props[key]?.type;
    out[key] = t === "number" || t === "integer" ? 1 : t === "boolean" ? true : t === "array" ? [] : t === "object" ? {} : "fake";
  }
  return out;
}

/** The scenario of a built-in directive, else of one in directives.ts, else undefined. */
export function directiveScenario(name: string, body: any, arg?: number): Scenario | undefined {
  const tools: any[] = body?.conversationState?.currentMessage?.userInputMessage?.userInputMessageContext?.tools ?? [];
  const specs = tools.map((t) => t?.toolSpecification).filter(Boolean);
  const call = (i: number) => {
    const spec = specs[i % Math.max(1, specs.length)];
    return spec ? { name: spec.name as string, input: sampleInput(spec.inputSchema?.json) } : undefined;
  };
  switch (name) {
    case "text":
      return textScenario("Hello from fake Kiro.");
    case "tools": {
      const c = call(0);
      return c ? toolScenario([c], { text: "Calling a tool." }) : textScenario("No tools were declared.");
    }
    case "parallel_tools": {
      const a = call(0);
      const b = call(1);
      return a && b ? parallelToolScenario([a, b]) : textScenario("No tools were declared.");
    }
    case "thinking":
      return thinkingTagScenario("Let me think about this.", "Here is the answer.");
    case "reasoning":
      return reasoningScenario("Reasoning about it.", "Here is the answer.");
    case "long":
      return longScenario(Math.min(Math.max(arg ?? 400, 1), 100_000));
    case "usage":
      return usageScenario();
    case "exception":
      return exceptionScenario("ThrottlingException", "Too many requests, please wait before trying again.");
    case "error_frame":
      return errorFrameScenario();
    case "content_length":
      return contentLengthScenario();
    case "stall":
      return stallScenario("slow answer", { beforeMs: 1500, betweenMs: 300 });
    case "abrupt":
      return abruptCloseScenario();
    case "bad_crc":
      return badCrcScenario();
  }
  return extraDirectiveScenario(name, body, arg);
}
