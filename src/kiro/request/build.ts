import { createHash, randomUUID } from "node:crypto";
import type { CanonicalRequest } from "../../core/canonical";
import { KiroError } from "../errors";
import { defaultMaxInputChars, enforceBudget } from "./budget";
import { buildHistory } from "./history";
import { planThinking, type ThinkingForm } from "./thinking";
import { buildToolNameMap, type ToolNameMap } from "./tool-names";
import { declareTools, placeholderTools } from "./tools";
import type { KiroGenerateRequest } from "./types";

export type { KiroGenerateRequest } from "./types";
export type { ToolNameMap } from "./tool-names";

export type BuildOptions = {
  profileArn?: string;
  conversationId?: string;
  /** Sent as the `x-amzn-kiro-agent-mode` header (headers.ts), never in the body (SDK binding). */
  agentMode?: string;
  /** Send the legacy CLAUDE_*_V1_0 id instead of the dotted one (fallback after INVALID_MODEL_ID). */
  useLegacyModelId?: boolean;
  /** Thinking form override once ListAvailableModels told us what the model accepts. */
  thinkingForm?: ThinkingForm;
  /** Body budget in characters (images excluded); default contextWindow × 3.5; 0 disables it. */
  maxInputChars?: number;
};

/** `json` is `body` serialized, exactly the bytes to send (made once, by the size check). */
export type BuildResult = { body: KiroGenerateRequest; json: string; modelId: string; toolNames: ToolNameMap };

/** Instructions that stand in for tool_choice, which the upstream has no field for. */
function toolChoiceText(req: CanonicalRequest, names: ToolNameMap): string[] {
  const out: string[] = [];
  const tc = req.toolChoice;
  if (req.tools.length > 0 && tc?.type === "any") {
    out.push("You must respond by calling at least one of the available tools.");
  } else if (req.tools.length > 0 && tc?.type === "tool") {
    out.push(`You must respond by calling the tool "${names.toShort(tc.name)}".`);
  }
  if (req.tools.length > 0 && tc?.type !== "none" && req.parallelToolCalls === false) {
    out.push("Call at most one tool per response.");
  }
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Upstream conversationId: Amazon's IDE language server sends one UUID per chat, and INVALID_CONVERSATION_ID exists, so
 * arbitrary client keys (Anthropic metadata.user_id, OpenAI `user`) are hashed into a stable
 * UUID-shaped id instead of being sent verbatim.
 */
export function upstreamConversationId(key: string | undefined): string {
  if (!key) return randomUUID();
  if (UUID.test(key)) return key.toLowerCase();
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Whether the client asked for thinking through the model name (a "-thinking" suffix, as some proxies accept). */
export function modelNameRequestsThinking(name: string): boolean {
  return /-thinking(\[[^\]]*\])?$/i.test(name.trim());
}

/** The model was resolved when the request was decoded: this sends its upstream id. */
export function buildKiroRequest(req: CanonicalRequest, opts: BuildOptions = {}): BuildResult {
  const model = req.model;
  const modelId = opts.useLegacyModelId && model.legacyId ? model.legacyId : model.upstreamId;

  // toolChoice "none": declare nothing, so the model cannot call a tool; history tool traffic becomes text.
  const textualTools = req.toolChoice?.type === "none";
  const tools = textualTools ? [] : (req.tools ?? []);
  const tc = req.toolChoice;
  if (tc?.type === "tool" && !tools.some((t) => t.name === tc.name)) {
    throw new KiroError("bad_request", `tool_choice names the tool "${tc.name}", which is not among the declared tools.`);
  }

  const allNames: string[] = tools.map((t) => String(t.name ?? ""));
  if (!textualTools) {
    for (const m of req.messages ?? []) {
      if (m.role === "assistant") for (const p of m.content ?? []) if (p?.type === "tool_use") allNames.push(String(p.name ?? ""));
    }
  }
  const names = buildToolNameMap(allNames);

  const thinking = planThinking(req.thinking, model, {
    nameRequestsThinking: modelNameRequestsThinking(model.requested),
    form: opts.thinkingForm,
  });

  // Client tools first: their overflow descriptions go into the system text.
  const declared = declareTools(tools, names);

  const systemParts = [
    thinking.form === "tags" ? thinking.prefix : "",
    req.system ?? "",
    req.responseFormatInstruction ?? "",
    ...toolChoiceText({ ...req, tools }, names),
    ...declared.systemNotes,
  ].filter((s) => s.trim() !== "");
  const systemText = systemParts.join("\n\n");

  const { history, current, historyToolNames } = buildHistory({
    messages: req.messages ?? [],
    systemText,
    textualTools,
    thinking,
    names,
    modelId,
  });
  const specs = [...declared.specs, ...placeholderTools(declared.specs, historyToolNames)];
  if (specs.length > 0) {
    current.userInputMessageContext = { ...(current.userInputMessageContext ?? {}), tools: specs };
  }

  const body: KiroGenerateRequest = {
    conversationState: {
      conversationId: upstreamConversationId(opts.conversationId ?? req.metadata?.conversationId),
      agentContinuationId: randomUUID(),
      agentTaskType: "vibe",
      chatTriggerType: "MANUAL",
      ...(history.length > 0 ? { history } : {}),
      currentMessage: { userInputMessage: current },
    },
  };
  if (opts.profileArn) body.profileArn = opts.profileArn;
  if (thinking.form === "native") body.additionalModelRequestFields = thinking.fields;

  const json = enforceBudget(body, opts.maxInputChars ?? defaultMaxInputChars(model));
  return { body, json, modelId, toolNames: names };
}
