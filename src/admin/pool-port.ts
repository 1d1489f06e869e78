import type { Services } from "../services";

/**
 * The part of AccountPool (docs/CONTRACTS.md, src/pool) the panel calls. Declared here so the panel
 * depends on the contract, not on the pool's internals; the panel reads account rows for display
 * straight from the accounts table (the pool persists its state there) with prepared queries.
 */
export type AccountInput = {
  kind: "social" | "idc" | "api_key";
  refreshToken: string;
  clientId?: string;
  clientSecret?: string;
  label?: string;
  email?: string;
  region?: string;
  authRegion?: string;
  profileArn?: string;
  disabled?: boolean;
  source?: string;
  sourcePath?: string;
};

export type UpsertResult = { id: string; outcome: "added" | "updated" | "skipped"; why?: string };

export type PanelPool = {
  upsert(input: AccountInput): Promise<UpsertResult>;
  setEnabled(id: string, on: boolean): unknown;
  remove(id: string): unknown;
  refreshNow(id: string): unknown;
  checkQuota(id: string): unknown;
  setLabel(id: string, label: string): unknown;
};

/** The pool, once src/pool wires `pool` into Services; null before that (panel shows a notice). */
export function poolOf(s: Services): PanelPool | null {
  return ((s as unknown as { pool?: PanelPool }).pool) ?? null;
}
