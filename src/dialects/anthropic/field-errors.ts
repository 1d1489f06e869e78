/**
 * The 400s of the Messages dialect name the field at fault: `bad()` builds them, and `issueText()`
 * rewords zod's type errors the way the real API words them.
 */
import { TurnError } from "../../core/errors";

/**
 * zod's wording for type errors ("Invalid input: expected number, received undefined") becomes
 * "Field required" for a missing field and "must be a number, not a string" otherwise; the field
 * path is prepended by bad(), so every 400 names its field.
 */
export function issueText(iss: {
  code?: string;
  expected?: unknown;
  input?: unknown;
  errors?: unknown;
  origin?: string;
  minimum?: unknown;
  maximum?: unknown;
}): string | undefined {
  if (iss.origin === "number" && iss.code === "too_big") return `must be at most ${String(iss.maximum)}, got ${String(iss.input)}`;
  if (iss.origin === "number" && iss.code === "too_small") return `must be at least ${String(iss.minimum)}, got ${String(iss.input)}`;
  if (iss.origin === "string" && iss.code === "too_small" && iss.minimum === 1) return "must not be empty";
  if (iss.code === "invalid_type") {
    if (iss.input === undefined) return "Field required";
    return `must be ${article(String(iss.expected))}, not ${typeName(iss.input)}`;
  }
  if (iss.code === "invalid_union") {
    // Every branch failed on the value's type (e.g. content: 5): list what would have been accepted.
    const branches = Array.isArray(iss.errors) ? (iss.errors as Array<Array<{ code?: string; expected?: unknown; path?: unknown[] }>>) : [];
    const expected = branches.map((b) => (b.length === 1 && b[0]!.code === "invalid_type" && !b[0]!.path?.length ? String(b[0]!.expected) : undefined));
    if (expected.length && expected.every(Boolean)) {
      return iss.input === undefined ? "Field required" : `must be ${expected.map((e) => article(e!)).join(" or ")}, not ${typeName(iss.input)}`;
    }
  }
  return undefined;
}

function article(type: string): string {
  const name = type === "int" ? "integer" : type;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  const t = typeof v;
  if (t === "number" && !Number.isInteger(v)) return "a fractional number";
  return article(t === "bigint" ? "number" : t);
}

/** A 400 naming the field: "<param>: <message>" (unless the message already starts with it). */
export function bad(param: string, message: string): TurnError {
  return new TurnError("invalid_request", message.startsWith(param) ? message : `${param}: ${message}`, { param });
}
