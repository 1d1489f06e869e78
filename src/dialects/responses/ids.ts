/**
 * Ids the Responses dialect mints, and the reasoning carrier.
 *
 * A response id is `resp_` + 32 hex digits. Output item ids embed that same hex
 * (`msg_<hex>_<n>`, `rs_…`, `fc_…`, `ctc_…`, `lsh_…`), so an `item_reference` a client sends
 * later names the stored response it came from without a second lookup table.
 */
const hex32 = () => crypto.randomUUID().replace(/-/g, "");

export const newResponseId = () => `resp_${hex32()}`;

export function itemId(responseId: string, prefix: string, n: number): string {
  return `${prefix}_${responseId.slice(5)}_${n}`;
}

/** The response id an item id of ours belongs to, or undefined for foreign ids. */
export function responseIdOfItem(id: string): string | undefined {
  const m = /^[a-z]+_([0-9a-f]{32})_\d+$/.exec(id);
  return m ? `resp_${m[1]}` : undefined;
}

/** An id for an input item the client sent without one (input_items lists need ids). */
export function inputItemId(type: string, responseId: string, n: number): string {
  const prefix = type === "message" ? "msg" : type === "function_call_output" ? "fco" : type === "custom_tool_call_output" ? "ctco" : "item";
  return `${prefix}_${responseId.slice(5)}_in${n}`;
}

/**
 * `encrypted_content` of a reasoning item: the model's thinking text and its signature, so a
 * client that replays the item (Codex always does) gives the model back its signed thinking.
 * Versioned base64 JSON; anything else (another server's blob) decodes to undefined.
 */
const CARRIER = "kiro-reasoning-v1:";

export function encodeReasoning(text: string, signature: string | undefined): string {
  return CARRIER + Buffer.from(JSON.stringify(signature ? { t: text, s: signature } : { t: text })).toString("base64");
}

export function decodeReasoning(blob: unknown): { text: string; signature?: string } | undefined {
  if (typeof blob !== "string" || !blob.startsWith(CARRIER)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(blob.slice(CARRIER.length), "base64").toString("utf8"));
    if (typeof v?.t !== "string") return undefined;
    return typeof v.s === "string" ? { text: v.t, signature: v.s } : { text: v.t };
  } catch {
    return undefined;
  }
}
