import { createHash } from "node:crypto";

/**
 * A UUID (version-8 layout) derived from `name`: the same name gives the same id on every
 * instance. Rows that instances sharing one database may create at the same moment for the same
 * thing (an account for one refresh token, the built-in key for one KIRO_CLIENT_TOKEN) take such
 * an id, so both write one row instead of one row and, on the slower instance, a record in memory
 * that the database does not have.
 */
export function stableUuid(name: string): string {
  const h = createHash("sha256").update(name).digest("hex");
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
