import type { CanonicalEvent, StopReason, Usage } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import { checkResponseFormat, type ResponseFormat } from "./response-format";
import { finishReason, mergeUsage, openaiUsage } from "./shared";

/**
 * Canonical events → one non-stream ChatCompletion: content is a string
 * for a text reply and null when the message only calls tools; tool_calls is omitted when there
 * are none; thinking goes into the non-standard message.reasoning_content (Cline, Roo, AI SDK
 * openai-compatible read it).
 */
export type JsonEncoderOptions = {
  id: string;
  created: number;
  model: string;
  responseFormat?: ResponseFormat;
  /** Legacy `functions` request: the call is `message.function_call`, finish_reason "function_call". */
  legacyFunctions?: boolean;
};

type ToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };

export async function encodeChatCompletion(events: AsyncIterable<CanonicalEvent>, o: JsonEncoderOptions) {
  let text = "";
  let reasoning = "";
  const calls: ToolCall[] = [];
  const byId = new Map<string, ToolCall>();
  const usage: Partial<Usage> = {};
  let stop: StopReason | undefined;

  for await (const e of events) {
    switch (e.type) {
      case "text": text += e.text; break;
      case "thinking": reasoning += e.text; break;
      case "tool_start": {
        const c: ToolCall = { id: e.id, type: "function", function: { name: e.name, arguments: "" } };
        calls.push(c);
        byId.set(e.id, c);
        break;
      }
      case "tool_args": {
        const c = byId.get(e.id) ?? calls[calls.length - 1];
        if (c) c.function.arguments += e.json;
        break;
      }
      case "tool_end": break;
      case "usage": mergeUsage(usage, e.usage); break;
      case "stop": stop ??= e.reason; break;
    }
  }
  for (const c of calls) if (!c.function.arguments) c.function.arguments = "{}";

  if (o.responseFormat && o.responseFormat.type !== "text" && stop !== "max_tokens" && calls.length === 0) {
    const check = checkResponseFormat(text, o.responseFormat);
    if (!check.ok) throw new TurnError("upstream", `response_format not satisfied: ${check.message}`);
    text = check.text;
  }

  const message: Record<string, unknown> = {
    role: "assistant",
    content: text === "" && calls.length > 0 ? null : text,
    refusal: null,
    annotations: [],
  };
  // Legacy replies carry one call (the turn runner stops after the first one for such requests).
  if (calls.length && o.legacyFunctions) message.function_call = calls[0]!.function;
  else if (calls.length) message.tool_calls = calls;
  if (reasoning) message.reasoning_content = reasoning;

  return {
    id: o.id,
    object: "chat.completion" as const,
    created: o.created,
    model: o.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(stop, o.legacyFunctions) }],
    usage: openaiUsage(usage),
    system_fingerprint: null,
  };
}
