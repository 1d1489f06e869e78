/**
 * Ids the Responses dialect mints, and the reasoning carrier.
 *
 * A response id is `resp_` + 32 hex digits: 12 for the millisecond it was minted, 1 saying whether
 * it is stored (`1`) or not (`0`), 19 random. Output item ids embed that same hex
 * (`msg_<hex>_<n>`, `rs_…`, `fc_…`, `ctc_…`, `lsh_…`), so an `item_reference` a client sends
 * later names the stored response it came from without a second lookup table. The time and the
 * flag tell a reader whether an id it cannot find yet may still be being stored by another
 * instance (`landingWaitMs`).
 */
const random19 = () => crypto.randomUUID().replace(/-/g, "").slice(0, 19);

export function newResponseId(stored: boolean, now = Date.now()): string {
  return `resp_${Math.floor(now).toString(16).padStart(12, "0").slice(-12)}${stored ? "1" : "0"}${random19()}`;
}

/** When a response id of this server was minted and whether it was stored; undefined for other ids. */
export function parseResponseId(id: string): { mintedAt: number; stored: boolean } | undefined {
  const m = /^resp_([0-9a-f]{12})([01])[0-9a-f]{19}$/.exec(id);
  return m ? { mintedAt: parseInt(m[1]!, 16), stored: m[2] === "1" } : undefined;
}

/**
 * A stored response is written after its terminal event (src/db/pg/responses-store.ts), so a
 * client continuing it at once on another instance can arrive before the row. A read looks again
 * for up to LANDING_WAIT_MS when the id is one this server minted as stored within
 * LANDING_WINDOW_MS (longer than any turn runs); every other unknown id is answered at once.
 */
export const LANDING_WAIT_MS = 2000;
const LANDING_WINDOW_MS = 3_600_000;
/** Clocks of two instances may disagree by this much. */
const CLOCK_SKEW_MS = 60_000;

export function landingWaitMs(id: string, now = Date.now()): number {
  const p = parseResponseId(id);
  if (!p?.stored) return 0;
  const age = now - p.mintedAt;
  return age > -CLOCK_SKEW_MS && age < LANDING_WINDOW_MS ? LANDING_WAIT_MS : 0;
}

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
