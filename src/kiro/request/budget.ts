import { KiroError } from "../errors";
import type { ResolvedModel } from "../../core/canonical";
import { MAX_USER_MESSAGE_CHARS } from "./history";
import type { KiroGenerateRequest } from "./types";

/**
 * Size budget checked before sending (§4.3 rule 10). The official client's overall budget
 * (LSP tokenLimitsCalculator.js) is maxInputTokens × 3.5 characters; we apply it to the JSON body
 * without image bytes (images have their own per-image limits). Upstream answers
 * CONTENT_LENGTH_EXCEEDS_THRESHOLD ("Input is too long.") when it is exceeded anyway.
 */
export const CHARS_PER_TOKEN = 3.5;

export function defaultMaxInputChars(model: Pick<ResolvedModel, "contextWindow">): number {
  return Math.floor(model.contextWindow * CHARS_PER_TOKEN);
}

/** The body as sent, and its JSON characters not counting base64 image payloads. */
export function measureBody(body: KiroGenerateRequest): { json: string; chars: number; imageChars: number } {
  const cs = body.conversationState;
  let imageChars = 0;
  const entries = [...(cs.history ?? []), cs.currentMessage];
  for (const e of entries) {
    if ("userInputMessage" in e) for (const img of e.userInputMessage.images ?? []) imageChars += img.source.bytes.length;
  }
  const json = JSON.stringify(body);
  return { json, chars: json.length - imageChars, imageChars };
}

/**
 * Throws input_too_long when the body is over the limit; returns the body serialized (once: the
 * size check needs the JSON anyway, and with images it runs to megabytes, so the caller sends
 * this string instead of stringifying again).
 */
export function enforceBudget(body: KiroGenerateRequest, limit: number): string {
  const sys = body.conversationState.history?.[0];
  if (sys && "userInputMessage" in sys && sys.userInputMessage.content.length > MAX_USER_MESSAGE_CHARS) {
    throw new KiroError(
      "input_too_long",
      `Input is too long: the system prompt is ${sys.userInputMessage.content.length} characters; the upstream limit per message is ${MAX_USER_MESSAGE_CHARS} characters.`,
      { reason: "CONTENT_LENGTH_EXCEEDS_THRESHOLD" },
    );
  }
  const { json, chars } = measureBody(body);
  if (!(limit > 0) || !Number.isFinite(limit)) return json;
  if (chars > limit) {
    throw new KiroError(
      "input_too_long",
      `Input is too long: the request is ${chars} characters (images excluded); the limit for this model is ${limit} characters (about ${Math.round(limit / CHARS_PER_TOKEN)} tokens). Shorten the conversation or compact it.`,
      { reason: "CONTENT_LENGTH_EXCEEDS_THRESHOLD" },
    );
  }
  return json;
}
