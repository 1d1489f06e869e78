import type {
  AssistantPart, CanonicalMessage, CanonicalRequest, ResolvedModel, ThinkingSetting, ToolChoice, ToolDefinition, UserPart,
} from "../../core/canonical";
import { TurnError } from "../../core/errors";
import { freeToolName } from "../../core/web-search";
import { parseBody } from "../openai-family/wire";
import { invalidParam } from "./errors";
import { imageFromUrl } from "./images";
import { responseFormatInstruction, type ResponseFormat } from "./response-format";
import { chatRequestSchema, type ChatMessage, type ChatRequestBody } from "./schema";

/** What the route needs besides the canonical request. */
export type DecodedChat = {
  request: CanonicalRequest;
  stream: boolean;
  includeUsage: boolean;
  responseFormat?: ResponseFormat;
  /** The request used legacy `functions` (no `tools`): answer with `function_call`, not `tool_calls`. */
  legacyFunctions: boolean;
  /** `web_search_options` was sent: kiro-server searches, the answer cites with url_citation annotations. */
  webSearch: boolean;
};

export type DecodeOptions = {
  conversationId?: string;
  /** The model catalogue (DecodeContext.resolveModel): throws TurnError("not_found") for an unknown name. */
  resolveModel(name: string): ResolvedModel;
};

/**
 * Chat Completions body → CanonicalRequest. Throws TurnError("invalid_request", …, {param}) for a
 * malformed body, then TurnError("not_found", …, {param: "model"}) for a model nobody serves.
 */
export function decodeChatRequest(raw: unknown, opts: DecodeOptions): DecodedChat {
  const b = parseBody(raw, chatRequestSchema);
  if (b.n != null && b.n !== 1) throw invalidParam("n", "Only n=1 is supported: the upstream produces one choice per request.");

  const { system, messages } = decodeMessages(b.messages);
  if (messages.length === 0) throw invalidParam("messages", "messages must contain at least one user or assistant message.");

  const tools = decodeTools(b);
  const legacyFunctions = (b.functions?.length ?? 0) > 0 && !(b.tools?.length);
  const responseFormat = (b.response_format ?? undefined) as ResponseFormat | undefined;
  const stop = b.stop == null ? [] : typeof b.stop === "string" ? [b.stop] : b.stop;
  const thinking = thinkingFor(b.reasoning_effort ?? undefined);
  const instruction = responseFormatInstruction(responseFormat);
  // Resolved last, once: a malformed body is reported before an unknown model.
  const model = opts.resolveModel(b.model);
  // Without a client limit: the model's own output cap.
  const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? model.maxOutputTokens;

  const request: CanonicalRequest = {
    model,
    system,
    messages,
    tools: tools.defs,
    toolChoice: tools.choice,
    // The legacy API returns at most one function_call per reply.
    parallelToolCalls: legacyFunctions ? false : (b.parallel_tool_calls ?? undefined),
    maxTokens,
    stopSequences: stop.filter((s) => s !== ""),
    thinking,
    temperature: b.temperature ?? undefined,
    topP: b.top_p ?? undefined,
    responseFormatInstruction: instruction,
    metadata: { conversationId: opts.conversationId ?? b.user ?? undefined, dialect: "openai" },
  };
  // Web search as the search models offer it: the model may search (docs/web-search.md). The
  // options' context size and location have no effect (Kiro's search takes only a query).
  const webSearch = b.web_search_options != null;
  if (webSearch) request.serverTools = [{ type: "web_search", name: freeToolName("web_search", tools.defs), version: "web_search_options", forcedAnswer: "model" }];
  return { request, stream: b.stream === true, includeUsage: b.stream_options?.include_usage === true, responseFormat, legacyFunctions, webSearch };
}

/** reasoning_effort → adaptive thinking; the Kiro builder picks native fields or tags per model. */
function thinkingFor(effort: ChatRequestBody["reasoning_effort"]): ThinkingSetting {
  switch (effort) {
    case undefined: case null: case "none": return { type: "disabled" };
    case "minimal": case "low": return { type: "adaptive", effort: "low" };
    case "medium": return { type: "adaptive", effort: "medium" };
    case "high": return { type: "adaptive", effort: "high" };
    case "xhigh": case "max": return { type: "adaptive", effort: "max" };
  }
}

function decodeTools(b: ChatRequestBody): { defs: ToolDefinition[]; choice?: ToolChoice } {
  const defs: ToolDefinition[] = [];
  (b.tools ?? []).forEach((t, i) => {
    if (t.type !== "function" || !("function" in t)) {
      throw invalidParam(`tools[${i}].type`, `Unsupported tool type '${t.type}': only function tools are supported.`);
    }
    const f = t.function as { name: string; description?: string | null; parameters?: Record<string, unknown> | null };
    defs.push({ name: f.name, description: f.description ?? "", inputSchema: f.parameters ?? { type: "object", properties: {} } });
  });
  // Legacy `functions` (pre-tools API) are the same thing.
  for (const f of b.functions ?? []) {
    defs.push({ name: f.name, description: f.description ?? "", inputSchema: f.parameters ?? { type: "object", properties: {} } });
  }
  const tc = b.tool_choice;
  let choice: ToolChoice | undefined;
  let declared = defs;
  if (tc == null) choice = legacyChoice(b.function_call, defs);
  else if (tc === "none") choice = { type: "none" };
  else if (tc === "auto") choice = { type: "auto" };
  else if (tc === "required") choice = { type: "any" };
  else if (tc.type === "function" && "function" in tc) {
    const name = (tc.function as { name: string }).name;
    if (!defs.some((d) => d.name === name)) throw invalidParam("tool_choice", `tool_choice names the function '${name}', which is not in tools.`);
    choice = { type: "tool", name };
  } else if (tc.type === "allowed_tools" && "allowed_tools" in tc) {
    const at = tc.allowed_tools as { mode: "auto" | "required"; tools: Array<{ function?: { name: string } }> };
    const allowed = new Set(at.tools.map((x) => x.function?.name).filter(Boolean));
    declared = defs.filter((d) => allowed.has(d.name));
    choice = at.mode === "required" ? { type: "any" } : { type: "auto" };
  } else {
    throw invalidParam("tool_choice", `Unsupported tool_choice type '${tc.type}'.`);
  }
  return { defs: declared, choice };
}

/** Legacy `function_call` ("none" / "auto" / {name}) → ToolChoice; `tool_choice` wins when both are sent. */
function legacyChoice(fc: ChatRequestBody["function_call"], defs: ToolDefinition[]): ToolChoice | undefined {
  if (fc == null) return undefined;
  if (fc === "none") return { type: "none" };
  if (fc === "auto") return { type: "auto" };
  if (!defs.some((d) => d.name === fc.name)) throw invalidParam("function_call", `function_call names the function '${fc.name}', which is not in functions.`);
  return { type: "tool", name: fc.name };
}

function textOf(content: string | ReadonlyArray<{ type: string; [k: string]: unknown }> | null | undefined, param: string): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .map((p, i) => {
      if (p.type === "text") return String(p.text);
      if (p.type === "refusal") return String(p.refusal);
      throw invalidParam(`${param}[${i}].type`, `Content part type '${String(p.type)}' is not allowed here; use text parts.`);
    })
    .join("\n");
}

function parseArguments(args: string | null | undefined): unknown {
  if (args == null || args.trim() === "") return {};
  try {
    return JSON.parse(args);
  } catch {
    // Truncated calls (finish_reason "length") get replayed by clients; keep the text rather than fail.
    return { raw_arguments: args };
  }
}

/** OpenAI messages → system text + alternating canonical messages (tool results grouped into one user turn). */
function decodeMessages(input: ChatMessage[]): { system: string; messages: CanonicalMessage[] } {
  const system: string[] = [];
  const out: CanonicalMessage[] = [];
  const pendingFunctionCalls: Array<{ id: string; name: string }> = [];
  let callCounter = 0;

  const push = (m: CanonicalMessage) => {
    const last = out[out.length - 1];
    if (last && last.role === m.role) (last.content as Array<UserPart | AssistantPart>).push(...m.content);
    else out.push(m);
  };

  for (let i = 0; i < input.length; i++) {
    const m = input[i]!;
    const at = `messages[${i}]`;
    switch (m.role) {
      case "system":
      case "developer": {
        const t = textOf(m.content, `${at}.content`);
        if (t.trim()) system.push(t);
        break;
      }
      case "user": {
        const parts: UserPart[] = [];
        if (typeof m.content === "string") parts.push({ type: "text", text: m.content });
        else {
          for (let j = 0; j < m.content.length; j++) {
            const p = m.content[j] as Record<string, unknown>;
            const pp = `${at}.content[${j}]`;
            if (p.type === "text" && typeof p.text === "string") parts.push({ type: "text", text: p.text });
            else if (p.type === "image_url") {
              const iu = p.image_url as string | { url?: unknown } | undefined;
              const url = typeof iu === "string" ? iu : iu?.url;
              if (typeof url !== "string") throw invalidParam(`${pp}.image_url.url`, "image_url.url is required.");
              parts.push(imageFromUrl(url, `${pp}.image_url.url`));
            } else {
              throw invalidParam(`${pp}.type`, `Unsupported content part type '${String(p.type)}'; text and image_url are supported.`);
            }
          }
        }
        if (parts.length) push({ role: "user", content: parts });
        break;
      }
      case "assistant": {
        const parts: AssistantPart[] = [];
        const text = textOf(m.content, `${at}.content`) || (m.refusal ?? "");
        if (text) parts.push({ type: "text", text });
        (m.tool_calls ?? []).forEach((tc, j) => {
          const id = tc.id || `call_${i}_${j}`;
          parts.push({ type: "tool_use", id, name: tc.function.name, input: parseArguments(tc.function.arguments) });
        });
        if (m.function_call) {
          const id = `call_fn_${callCounter++}`;
          pendingFunctionCalls.push({ id, name: m.function_call.name });
          parts.push({ type: "tool_use", id, name: m.function_call.name, input: parseArguments(m.function_call.arguments) });
        }
        if (parts.length) push({ role: "assistant", content: parts });
        break;
      }
      case "tool": {
        const text = textOf(m.content, `${at}.content`);
        push({ role: "user", content: [{ type: "tool_result", toolUseId: m.tool_call_id, content: [{ type: "text", text }] }] });
        break;
      }
      case "function": {
        const idx = pendingFunctionCalls.findIndex((c) => c.name === m.name);
        if (idx < 0) throw invalidParam(`${at}.name`, `No earlier function_call named '${m.name}' for this function message.`);
        const [call] = pendingFunctionCalls.splice(idx, 1);
        push({ role: "user", content: [{ type: "tool_result", toolUseId: call!.id, content: [{ type: "text", text: m.content ?? "" }] }] });
        break;
      }
    }
  }
  // Tool results first within a user turn (the upstream and Anthropic both expect that order).
  for (const m of out) {
    if (m.role === "user") m.content.sort((a, b) => Number(b.type === "tool_result") - Number(a.type === "tool_result"));
  }
  return { system: system.join("\n\n"), messages: out };
}

