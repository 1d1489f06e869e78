/**
 * Secrets never reach a log line. Field names that look secret are replaced, and token-shaped
 * strings inside messages are masked (Kiro tokens start with "aor"/"aoa", keys with "sk-"/"ksk_").
 */
const SECRET_FIELD = /token|secret|password|authorization|api[-_]?key|cookie|credential/i;
const SECRET_VALUE = /\b(aor[A-Za-z0-9_\-]{12,}|aoa[A-Za-z0-9_\-]{12,}|ksk_[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{8,}|eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-.]+)/g;

export function redactText(s: string): string {
  return s.replace(SECRET_VALUE, (m) => `${m.slice(0, 4)}…[redacted]`);
}

export function redactFields(fields: Record<string, unknown> | undefined, depth = 0): Record<string, unknown> | undefined {
  if (!fields) return fields;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELD.test(k) && !/^(input|output|total)?_?tokens?$|Tokens$|tokens?_/i.test(k)) out[k] = v == null ? v : "[redacted]";
    else if (typeof v === "string") out[k] = redactText(v);
    else if (v && typeof v === "object" && !Array.isArray(v) && depth < 3) out[k] = redactFields(v as Record<string, unknown>, depth + 1);
    else out[k] = v;
  }
  return out;
}
