/**
 * Tool input-schema hygiene. The official client (Amazon's Q language server) sends client schemas nearly
 * verbatim, removing `$schema`/`$id` and rewriting `prefixItems` to `items`. kiro-server also
 * guarantees a top-level object schema with `properties`, and drops an empty top-level
 * `required: []` (the kiro-gateway proxy reports 400 "Improperly formed request" for it).
 */
type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Keywords whose value is a map name → subschema. */
const SCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
/** Keywords whose value is a subschema. */
const SCHEMA_ONE = ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
  "additionalItems", "unevaluatedProperties", "unevaluatedItems"];
/** Keywords whose value is a list of subschemas. */
const SCHEMA_LISTS = ["anyOf", "oneOf", "allOf", "prefixItems"];

/** Walks only schema positions, so a *property* called "$id" is never mistaken for the keyword. */
function cleanNode(node: unknown, depth: number): unknown {
  if (!isObj(node) || depth > 64) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "$schema" || k === "$id") continue;
    if (SCHEMA_MAPS.includes(k) && isObj(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, cleanNode(pv, depth + 1)]));
    } else if (SCHEMA_ONE.includes(k)) {
      out[k] = Array.isArray(v) ? v.map((x) => cleanNode(x, depth + 1)) : cleanNode(v, depth + 1);
    } else if (SCHEMA_LISTS.includes(k) && Array.isArray(v)) {
      out[k] = v.map((x) => cleanNode(x, depth + 1));
    } else {
      out[k] = v;
    }
  }
  if ("prefixItems" in out) {
    // Draft 2020-12 tuple form → draft-07 tuple form, as the official client does.
    if (!("items" in out) || out.items === false) out.items = out.prefixItems;
    delete out.prefixItems;
  }
  return out;
}

/** Normalized `inputSchema.json` for one tool; never throws. */
export function cleanToolSchema(schema: unknown): Record<string, unknown> {
  let s: unknown;
  try {
    // JSON round trip drops undefined/functions and detaches the client's object.
    s = schema === undefined ? undefined : JSON.parse(JSON.stringify(schema));
  } catch {
    s = undefined;
  }
  if (!isObj(s)) return { type: "object", properties: {} };
  const out = cleanNode(s, 0) as Json;
  if (out.type !== "object") {
    // A non-object top level (or a type list) cannot describe named tool arguments.
    out.type = "object";
  }
  if (!isObj(out.properties)) out.properties = {};
  if (Array.isArray(out.required)) {
    const req = out.required.filter((r): r is string => typeof r === "string");
    if (req.length === 0) delete out.required;
    else out.required = [...new Set(req)];
  } else if ("required" in out) {
    delete out.required;
  }
  return out;
}
