/**
 * A JSON reply format (Chat Completions `response_format`, Responses `text.format`) on an
 * upstream that has no structured-output mode.
 *
 * We instruct the model (CanonicalRequest.responseFormatInstruction) and check what comes back:
 * - the reply is normalised: a ```json fence or prose around one JSON value is cut away;
 * - json_object: the result must parse as a JSON object;
 * - json_schema: it must also satisfy the schema's common core (type, required, properties,
 *   items, enum, const, additionalProperties:false). Keywords beyond that core (pattern, format,
 *   $ref, anyOf/oneOf combinators, numeric ranges) are passed to the model as instructions only.
 * A reply that fails becomes an error instead of broken JSON, because callers such as
 * `chat.completions.parse()` would fail on it anyway, later and less clearly.
 */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name?: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null } };

export function responseFormatInstruction(rf: ResponseFormat | undefined): string | undefined {
  if (!rf || rf.type === "text") return undefined;
  const base =
    "Respond with one JSON value only: no prose before or after it and no Markdown code fence. The JSON must be valid and complete.";
  if (rf.type === "json_object") return `${base} The value must be a JSON object.`;
  const js = rf.json_schema;
  const parts = [base, "The value must conform to this JSON Schema"];
  if (js.name) parts[1] += ` (named "${js.name}")`;
  parts[1] += ":";
  if (js.description) parts.push(js.description);
  return `${parts.join(" ")}\n${JSON.stringify(js.schema ?? { type: "object" })}`;
}

export type FormatCheck = { ok: true; text: string } | { ok: false; message: string };

/** Normalises and validates the full reply text against the requested format. */
export function checkResponseFormat(text: string, rf: ResponseFormat | undefined): FormatCheck {
  if (!rf || rf.type === "text") return { ok: true, text };
  const extracted = extractJson(text);
  if (extracted === undefined) return { ok: false, message: "the model's reply was not valid JSON" };
  const { value, text: json } = extracted;
  if (rf.type === "json_object") {
    if (!isObject(value)) return { ok: false, message: "the model's reply was JSON but not a JSON object" };
    return { ok: true, text: json };
  }
  const problem = schemaProblem(value, rf.json_schema.schema ?? {}, "$");
  if (problem) return { ok: false, message: `the model's reply did not match the JSON schema: ${problem}` };
  return { ok: true, text: json };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function tryParse(s: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(s) };
  } catch {
    return undefined;
  }
}

/** The JSON value in a reply: the whole text, a fenced block, or the outermost {…}/[…] span. */
export function extractJson(text: string): { value: unknown; text: string } | undefined {
  const candidates = [text.trim()];
  const fence = /```(?:json)?\s*\n?([\s\S]*?)```/i.exec(text);
  if (fence) candidates.push(fence[1]!.trim());
  for (const [open, close] of [["{", "}"], ["[", "]"]] as const) {
    const a = text.indexOf(open);
    const b = text.lastIndexOf(close);
    if (a >= 0 && b > a) candidates.push(text.slice(a, b + 1));
  }
  for (const c of candidates) {
    if (!c) continue;
    const hit = tryParse(c);
    if (hit) return { value: hit.value, text: c };
  }
  return undefined;
}

function typeOk(v: unknown, t: string): boolean {
  switch (t) {
    case "object": return isObject(v);
    case "array": return Array.isArray(v);
    case "string": return typeof v === "string";
    case "number": return typeof v === "number";
    case "integer": return typeof v === "number" && Number.isInteger(v);
    case "boolean": return typeof v === "boolean";
    case "null": return v === null;
    default: return true;
  }
}

/** First violation of the schema's common core, or undefined. */
function schemaProblem(v: unknown, schema: Record<string, unknown>, at: string): string | undefined {
  if (!isObject(schema)) return undefined;
  const t = schema.type;
  if (typeof t === "string" && !typeOk(v, t)) return `${at} should be ${t}`;
  if (Array.isArray(t) && !t.some((x) => typeof x === "string" && typeOk(v, x))) return `${at} should be one of ${t.join("|")}`;
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) return `${at} is not one of the allowed values`;
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(v)) return `${at} should be ${JSON.stringify(schema.const)}`;
  if (isObject(v)) {
    const props = isObject(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) {
      for (const k of schema.required) if (typeof k === "string" && !(k in v)) return `${at}.${k} is required`;
    }
    for (const [k, sub] of Object.entries(props)) {
      if (k in v && isObject(sub)) {
        const p = schemaProblem(v[k], sub, `${at}.${k}`);
        if (p) return p;
      }
    }
    if (schema.additionalProperties === false) {
      const extra = Object.keys(v).find((k) => !(k in props));
      if (extra) return `${at}.${extra} is not allowed`;
    }
  }
  if (Array.isArray(v) && isObject(schema.items)) {
    for (let i = 0; i < v.length; i++) {
      const p = schemaProblem(v[i], schema.items, `${at}[${i}]`);
      if (p) return p;
    }
  }
  return undefined;
}
