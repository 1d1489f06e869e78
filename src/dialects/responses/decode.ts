import { z } from "zod";
import type { CanonicalRequest, ThinkingSetting } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import { responseFormatInstruction, type ResponseFormat } from "../../core/response-format";
import type { CountRequest, DecodeContext, Decoded } from "../dialect";
import { parseBody } from "../openai-family/wire";
import { invalidParam, ResponsesRequestError } from "./errors";
import { inputItemId, landingWaitMs, newResponseId, responseIdOfItem } from "./ids";
import { decodeInput, inputItems, type Item } from "./input";
import type { FirstTimeNotices } from "./notices";
import { decodeToolChoice, decodeTools, type ToolMap } from "./tools";
import type { ResponseStorage, StoredRecord } from "./storage";
import { INCLUDE_SOURCES } from "./web-search";

/** What the Responses encoders need besides the canonical request. */
export type ResponsesExtra = {
  responseId: string;
  createdAt: number;
  clientKeyId: string;
  store: boolean;
  tools: ToolMap;
  format?: ResponseFormat;
  /** The client asked for reasoning.encrypted_content. */
  includeEncrypted: boolean;
  /** The client asked for web_search_call.action.sources. */
  includeSources?: boolean;
  /** Request fields every response object echoes. */
  echo: Record<string, unknown>;
  /** The input this response is generated from (inherited items included), each with an id. */
  input: Item[];
};

const bodySchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.unknown())]).nullish(),
    instructions: z.string().nullish(),
    tools: z.array(z.unknown()).nullish(),
    tool_choice: z.unknown().optional(),
    parallel_tool_calls: z.boolean().nullish(),
    reasoning: z.object({ effort: z.string().nullish(), summary: z.string().nullish() }).passthrough().nullish(),
    text: z.object({ format: z.object({ type: z.string() }).passthrough().nullish() }).passthrough().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    user: z.string().nullish(),
    prompt_cache_key: z.string().nullish(),
    store: z.boolean().nullish(),
    stream: z.boolean().nullish(),
    include: z.array(z.string()).nullish(),
    previous_response_id: z.string().nullish(),
    temperature: z.number().nullish(),
    top_p: z.number().nullish(),
    background: z.boolean().nullish(),
    truncation: z.string().nullish(),
    service_tier: z.string().nullish(),
  })
  .passthrough();

type Body = z.infer<typeof bodySchema>;

/** POST /v1/responses/input_tokens: the same fields, every one optional (`model` too). */
const countSchema = bodySchema.extend({ model: z.string().min(1).nullish() });

export type DecodeDeps = {
  storage: ResponseStorage;
  /** Dropped tools and skipped item types, for the server log. */
  notices: FirstTimeNotices;
};

/**
 * `POST /v1/responses` body → canonical request. Throws TurnError (400 naming the field, 404 …).
 * Synchronous unless the body names stored items (`previous_response_id`, an `item_reference` to
 * one of this server's items): only then is storage read, once per stored response named.
 */
export function decodeResponsesRequest(raw: unknown, ctx: DecodeContext, deps: DecodeDeps): Decoded<ResponsesExtra> | Promise<Decoded<ResponsesExtra>> {
  const b = parseBody(raw, bodySchema);
  if (b.background) throw invalidParam("background", "background mode is not supported by this server; send the request without background.");
  if (b.conversation != null) throw invalidParam("conversation", "conversation objects are not supported by this server; use previous_response_id or send the full input.");

  const fresh = inputItems(b.input);
  const refs = referencedResponses(fresh);
  if (!b.previous_response_id && !refs.size) return build(b, ctx, deps, [], fresh);
  // Input: the stored conversation this one continues, then the new items.
  return inheritedInput(b.previous_response_id, refs, ctx, deps).then(({ inherited, stored }) => build(b, ctx, deps, inherited, resolveReferences(fresh, stored)));
}

/**
 * `POST /v1/responses/input_tokens` body → the prompt a response to it would send, and its model
 * when named. The input is read as `POST /v1/responses` reads it (the stored conversation of
 * `previous_response_id` first, `item_reference`s resolved; an unknown id is the same 400) and
 * the same fields are checked, but nothing is required: an empty body counts as nearly nothing.
 */
export function decodeResponsesCount(raw: unknown, ctx: DecodeContext, deps: DecodeDeps): CountRequest | Promise<CountRequest> {
  const b = parseBody(raw ?? {}, countSchema);
  if (b.conversation != null) throw invalidParam("conversation", "conversation objects are not supported by this server; use previous_response_id or send the full input.");
  const fresh = inputItems(b.input);
  const refs = referencedResponses(fresh);
  const count = (inherited: Item[], own: Item[]): CountRequest => {
    const p = promptOf(b, inherited, own);
    const model = b.model ? ctx.resolveModel(b.model) : undefined;
    return { prompt: { system: p.system, messages: p.input.messages, tools: p.tools.defs, responseFormatInstruction: responseFormatInstruction(p.format) }, model };
  };
  if (!b.previous_response_id && !refs.size) return count([], fresh);
  return inheritedInput(b.previous_response_id, refs, ctx, deps).then(({ inherited, stored }) => count(inherited, resolveReferences(fresh, stored)));
}

/** The stored conversation `previous_response_id` names and the stored responses `item_reference`s name (one read each). */
async function inheritedInput(previousId: string | null | undefined, refs: Set<string>, ctx: DecodeContext, deps: DecodeDeps): Promise<{ inherited: Item[]; stored: Map<string, StoredRecord> }> {
  const read = (id: string) => deps.storage.get(id, ctx.clientKeyId, { waitMs: landingWaitMs(id), signal: ctx.signal });
  const [prev, stored] = await Promise.all([previousId ? read(previousId) : undefined, readAll(refs, read)]);
  if (!previousId) return { inherited: [], stored };
  if (!prev) throw new ResponsesRequestError("invalid_request", `Previous response with id '${previousId}' not found.`, "previous_response_id", "previous_response_not_found");
  return { inherited: [...prev.input, ...prev.output], stored };
}

/** What a response and a count both read of the body: the input (inherited items first), tools, tool choice, reply format and system text. */
function promptOf(b: Pick<Body, "input" | "tools" | "tool_choice" | "text" | "instructions">, inherited: Item[], own: Item[]) {
  const input = decodeInput([...inherited, ...own], (i) => (i < inherited.length ? "previous_response_id" : typeof b.input === "string" ? "input" : `input[${i - inherited.length}]`));
  const tools = decodeTools(b.tools);
  const toolChoice = decodeToolChoice(b.tool_choice, tools);
  const format = textFormat(b);
  const system = [b.instructions ?? "", ...input.system].filter((s) => s.trim()).join("\n\n");
  return { input, tools, toolChoice, format, system };
}

/** The decoded request from the validated body, the inherited items and the client's own (references resolved). */
function build(b: Body, ctx: DecodeContext, deps: DecodeDeps, inherited: Item[], own: Item[]): Decoded<ResponsesExtra> {
  const store = b.store !== false;
  const responseId = newResponseId(store);
  const { input: decodedInput, tools, toolChoice, format, system } = promptOf(b, inherited, own);
  if (!decodedInput.messages.some((m) => m.role === "user")) throw invalidParam("input", "input must contain at least one user message or tool output.");
  // Resolved last, once: a malformed body is reported before an unknown model. Its TurnError
  // escapes as it is (the route records the refused model).
  const model = ctx.resolveModel(b.model);
  deps.notices.report("input items skipped (no upstream equivalent)", decodedInput.skipped);
  deps.notices.report("hosted tools dropped (not available through this server)", tools.dropped);

  const request: CanonicalRequest = {
    model,
    system,
    messages: decodedInput.messages,
    tools: tools.defs,
    toolChoice,
    parallelToolCalls: b.parallel_tool_calls ?? undefined,
    // Without a client limit: the model's own output cap.
    maxTokens: b.max_output_tokens ?? model.maxOutputTokens,
    stopSequences: [],
    thinking: thinkingFor(b.reasoning?.effort ?? undefined),
    temperature: b.temperature ?? undefined,
    topP: b.top_p ?? undefined,
    responseFormatInstruction: responseFormatInstruction(format),
    metadata: { conversationId: conversationKey(b, ctx.headers), dialect: "responses" },
  };
  if (tools.serverTools.length) request.serverTools = tools.serverTools;

  const createdAt = Math.floor(Date.now() / 1000);
  const extra: ResponsesExtra = {
    responseId,
    createdAt,
    clientKeyId: ctx.clientKeyId,
    store,
    tools,
    format,
    includeEncrypted: (b.include ?? []).includes("reasoning.encrypted_content"),
    includeSources: (b.include ?? []).includes(INCLUDE_SOURCES),
    echo: {
      instructions: b.instructions ?? null,
      max_output_tokens: b.max_output_tokens ?? null,
      parallel_tool_calls: b.parallel_tool_calls ?? true,
      previous_response_id: b.previous_response_id ?? null,
      reasoning: { effort: b.reasoning?.effort ?? null, summary: b.reasoning?.summary ?? null },
      service_tier: b.service_tier ?? "default",
      store,
      temperature: b.temperature ?? null,
      text: { format: b.text?.format ?? { type: "text" } },
      tool_choice: b.tool_choice ?? "auto",
      tools: b.tools ?? [],
      top_p: b.top_p ?? null,
      truncation: b.truncation ?? "disabled",
      user: b.user ?? null,
      metadata: b.metadata ?? {},
      ...(b.prompt_cache_key ? { prompt_cache_key: b.prompt_cache_key } : {}),
    },
    input: store ? [...inherited, ...own.map((it, n) => withId(it, responseId, n))] : [],
  };
  return { request, stream: b.stream === true, extra };
}

/** reasoning.effort → thinking (the Kiro builder picks native fields or tags per model). */
function thinkingFor(effort: string | undefined): ThinkingSetting {
  switch (effort) {
    case "minimal": case "low": return { type: "adaptive", effort: "low" };
    case "medium": return { type: "adaptive", effort: "medium" };
    case "high": return { type: "adaptive", effort: "high" };
    case "xhigh": case "max": return { type: "adaptive", effort: "max" };
    default: return { type: "disabled" };
  }
}

/** `text.format` → the shared JSON reply emulation (Chat Completions' `response_format` shape). */
function textFormat(b: Pick<Body, "text">): ResponseFormat | undefined {
  const f = b.text?.format as Record<string, unknown> | null | undefined;
  if (!f || f.type === "text") return undefined;
  if (f.type === "json_object") return { type: "json_object" };
  if (f.type === "json_schema") {
    if (f.schema != null && (typeof f.schema !== "object" || Array.isArray(f.schema))) throw invalidParam("text.format.schema", "Invalid value for 'text.format.schema': expected a JSON Schema object.");
    return {
      type: "json_schema",
      json_schema: {
        name: typeof f.name === "string" ? f.name : undefined,
        description: typeof f.description === "string" ? f.description : undefined,
        schema: (f.schema as Record<string, unknown> | undefined) ?? { type: "object" },
        strict: typeof f.strict === "boolean" ? f.strict : null,
      },
    };
  }
  throw invalidParam("text.format.type", `Invalid value for 'text.format.type': '${String(f.type)}'; expected text, json_object or json_schema.`);
}

/** Account affinity: the client's cache key (Codex: its session id), else a session header, else `user`. */
function conversationKey(b: Body, h: Headers): string | undefined {
  const key = b.prompt_cache_key || h.get("session-id") || h.get("x-conversation-id") || b.user || undefined;
  return key ? key.slice(0, 200) : undefined;
}

function withId(item: Item, responseId: string, n: number): Item {
  if (typeof item === "object" && item !== null && typeof item.id === "string" && item.id) return item;
  const type = typeof item?.type === "string" ? item.type : "message";
  return { ...(item.type === undefined && item.role !== undefined ? { type: "message" } : {}), ...item, id: inputItemId(type, responseId, n) };
}

/** The stored responses `item_reference` items name (this server's item ids only). */
function referencedResponses(items: Item[]): Set<string> {
  const ids = new Set<string>();
  for (const it of items) {
    if (it?.type !== "item_reference" || typeof it.id !== "string") continue;
    const rid = responseIdOfItem(it.id);
    if (rid) ids.add(rid);
  }
  return ids;
}

async function readAll(ids: Set<string>, read: (id: string) => Promise<StoredRecord | undefined>): Promise<Map<string, StoredRecord>> {
  const out = new Map<string, StoredRecord>();
  await Promise.all([...ids].map(async (id) => {
    const r = await read(id);
    if (r) out.set(id, r);
  }));
  return out;
}

/** `item_reference` items → the stored items they name (this key's stored responses only, read before). */
function resolveReferences(items: Item[], stored: Map<string, StoredRecord>): Item[] {
  if (!stored.size) return items;
  return items.map((it) => {
    if (it?.type !== "item_reference" || typeof it.id !== "string") return it;
    const rid = responseIdOfItem(it.id);
    const r = rid ? stored.get(rid) : undefined;
    const found = r?.output.find((o) => o.id === it.id) ?? r?.input.find((o) => o.id === it.id);
    return found ?? it;
  });
}
