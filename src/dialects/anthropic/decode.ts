/**
 * Anthropic Messages request body → CanonicalRequest (POST /v1/messages and count_tokens).
 * Lenient on purpose: unknown top-level fields and unknown block types never fail a request
 * (Claude Code sends new ones every few releases); only what we cannot honour is rejected, with
 * a 400 that names the field.
 */
import { z } from "zod";
import type { CanonicalMessage, CanonicalRequest, ResolvedModel, ThinkingSetting } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import { assistantParts, systemBlockText, userParts } from "./blocks";
import { bad, issueText } from "./field-errors";
import { MAX_JSON_DEPTH, tooDeep } from "../../core/json-depth";
import { decodeTools } from "./tools";

const textBlock = z.looseObject({ type: z.literal("text"), text: z.string() });
const blockArray = z.array(z.looseObject({ type: z.string() }));
const content = z.union([z.string(), blockArray]);

const messageSchema = z.looseObject({
  role: z.enum(["user", "assistant", "system"]),
  content,
});

const toolSchema = z.looseObject({
  type: z.string().optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

const toolChoiceSchema = z.looseObject({
  type: z.enum(["auto", "any", "tool", "none"]),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

const thinkingSchema = z.looseObject({
  type: z.string(),
  budget_tokens: z.number().int().optional(),
});

/** Shared by /v1/messages and count_tokens (which has no max_tokens). */
const baseSchema = z.looseObject({
  model: z.string().min(1, "must not be empty"),
  // The real API answers 400 to an empty list; we must not invent a turn for it.
  messages: z.array(messageSchema).min(1, "at least one message is required"),
  system: z.union([z.string(), z.array(textBlock)]).optional().nullable(),
  tools: z.array(toolSchema).optional().nullable(),
  tool_choice: toolChoiceSchema.optional().nullable(),
  thinking: thinkingSchema.optional().nullable(),
  output_config: z.looseObject({ effort: z.string().optional() }).optional().nullable(),
  stop_sequences: z.array(z.string()).optional().nullable(),
  temperature: z.number().min(0).max(1).optional().nullable(),
  top_p: z.number().min(0).max(1).optional().nullable(),
  top_k: z.number().int().min(0).optional().nullable(),
  metadata: z.looseObject({ user_id: z.string().optional().nullable() }).optional().nullable(),
  stream: z.boolean().optional().nullable(),
});

const messagesSchema = baseSchema.extend({
  max_tokens: z.number().int().min(1, "must be at least 1"),
});

export type AnthropicBody = z.infer<typeof messagesSchema>;

export type DecodeOptions = {
  /** X-Conversation-Id header, when the client sent one (wins over metadata.user_id). */
  conversationHeader?: string | null;
  /** count_tokens bodies have no max_tokens. */
  forCounting?: boolean;
  /** The model catalogue (DecodeContext.resolveModel): throws TurnError("not_found") for an unknown name. */
  resolveModel(name: string): ResolvedModel;
};

export type Decoded = { req: CanonicalRequest; stream: boolean };

/**
 * Throws TurnError("invalid_request") naming the field at fault, then TurnError("not_found", …,
 * {param: "model"}) for a model nobody serves.
 */
export function decodeAnthropicRequest(body: unknown, opts: DecodeOptions): Decoded {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new TurnError("invalid_request", "request body must be a JSON object");
  }
  const deep = tooDeep(body);
  if (deep) throw bad(deep.slice(0, 8).join("."), `nested more than ${MAX_JSON_DEPTH} levels deep`);
  const parsed = (opts.forCounting ? baseSchema : messagesSchema).safeParse(body, { error: issueText });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join(".");
    throw bad(path || "body", issue.message);
  }
  const b = parsed.data as AnthropicBody;

  const systemTexts: string[] = [];
  if (typeof b.system === "string") {
    if (b.system) systemTexts.push(b.system);
  } else if (Array.isArray(b.system)) {
    for (const blk of b.system) if (blk.text) systemTexts.push(blk.text);
  }

  const messages: CanonicalMessage[] = [];
  let lastIndex = -1;
  b.messages.forEach((m, i) => {
    const where = `messages.${i}.content`;
    if (m.role === "system") {
      // API 2026-10-21 system-role message: folded into the system text in order (never dropped).
      const t = typeof m.content === "string" ? m.content : m.content.map((blk, j) => systemBlockText(blk, `${where}.${j}`)).join("\n");
      if (t) systemTexts.push(t);
      return;
    }
    lastIndex = i;
    const blocks = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    const parts = m.role === "user" ? userParts(blocks, where) : assistantParts(blocks, where);
    const prev = messages[messages.length - 1];
    // Consecutive same-role turns are merged, as the API does.
    if (prev && prev.role === m.role) (prev.content as unknown[]).push(...parts);
    else messages.push({ role: m.role, content: parts } as CanonicalMessage);
  });
  requireUsableLastTurn(messages, lastIndex);

  const { tools, serverTools, toolChoice, parallelToolCalls } = decodeTools(b.tools ?? [], b.tool_choice ?? undefined);

  const effort = normaliseEffort(b.output_config?.effort);
  const thinking = thinkingSetting(b.thinking ?? undefined, effort);
  if (thinking.type === "enabled" && !opts.forCounting && thinking.budgetTokens >= b.max_tokens) {
    throw new TurnError("invalid_request", "thinking.budget_tokens: must be less than max_tokens", { param: "thinking.budget_tokens" });
  }

  // Resolved last, once: a malformed body is reported before an unknown model.
  const model = opts.resolveModel(b.model);
  const req: CanonicalRequest = {
    model,
    system: systemTexts.join("\n\n"),
    messages,
    tools,
    maxTokens: opts.forCounting ? 1 : b.max_tokens,
    stopSequences: b.stop_sequences ?? [],
    thinking,
    metadata: { dialect: "anthropic", conversationId: conversationId(opts.conversationHeader, b.metadata?.user_id) },
  };
  if (serverTools.length) req.serverTools = serverTools;
  if (toolChoice) req.toolChoice = toolChoice;
  if (parallelToolCalls !== undefined) req.parallelToolCalls = parallelToolCalls;
  if (b.temperature != null) req.temperature = b.temperature;
  if (b.top_p != null) req.topP = b.top_p;
  return { req, stream: b.stream === true };
}

// ------------------------------------------------------------------------------- the last turn

/**
 * The turn the model answers must have content. An empty list is caught by the schema; here: only
 * system-role messages, or a final user turn with nothing usable after decoding (only empty text
 * or block types this server drops). The real API answers these with a 400 too.
 */
function requireUsableLastTurn(messages: CanonicalMessage[], lastIndex: number): void {
  const last = messages[messages.length - 1];
  if (!last) throw bad("messages", "at least one user or assistant message is required");
  if (last.role !== "user") return;
  const usable = last.content.some((p) => p.type !== "text" || p.text.trim() !== "");
  if (!usable) {
    throw bad(
      `messages.${lastIndex}.content`,
      "the final user message has no usable content (it is empty, or contains only block types this server does not support)",
    );
  }
}

// ------------------------------------------------------------------------------- settings

type Effort = "low" | "medium" | "high" | "max";

function normaliseEffort(e: string | undefined): Effort | undefined {
  if (!e) return undefined;
  if (e === "low" || e === "medium" || e === "high" || e === "max") return e;
  if (e === "xhigh") return "max";
  return undefined;
}

function thinkingSetting(t: { type: string; budget_tokens?: number } | undefined, effort: Effort | undefined): ThinkingSetting {
  if (!t || t.type === "disabled") return { type: "disabled" };
  if (t.type === "enabled") {
    if (typeof t.budget_tokens !== "number") throw bad("thinking.budget_tokens", "Field required when thinking is enabled");
    if (t.budget_tokens < 1024) throw bad("thinking.budget_tokens", "must be at least 1024");
    return { type: "enabled", budgetTokens: t.budget_tokens };
  }
  // "adaptive" and newer modes (e.g. "between_tools") let the model decide.
  return effort ? { type: "adaptive", effort } : { type: "adaptive" };
}

/**
 * Account-affinity key: X-Conversation-Id, else metadata.user_id. Claude Code sends user_id as a
 * JSON string {device_id, account_uuid, session_id}; the session id is the conversation.
 */
function conversationId(header: string | null | undefined, userId: string | null | undefined): string | undefined {
  if (header && header.trim()) return header.trim().slice(0, 200);
  if (!userId) return undefined;
  const t = userId.trim();
  if (t.startsWith("{")) {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      const sid = o.session_id ?? o.sessionId;
      if (typeof sid === "string" && sid) return sid.slice(0, 200);
    } catch {
      // not JSON after all: use the raw string
    }
  }
  return t.slice(0, 200) || undefined;
}
