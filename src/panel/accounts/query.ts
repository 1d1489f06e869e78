import type { AccountState, AccountView } from "../../pool/types";

/** The Accounts table's search, state filter, sort and page, as read from the query string. */
export const ACCOUNT_SORTS = ["label", "state", "credits", "used", "errors", "expiry", "added"] as const;
export type AccountSort = (typeof ACCOUNT_SORTS)[number];
export const STATE_FILTERS = ["all", "active", "cooling", "exhausted", "disabled"] as const;
export type StateFilter = (typeof STATE_FILTERS)[number];
export type AccountQuery = { q: string; state: StateFilter; sort: AccountSort; page: number };

export const ACCOUNTS_PER_PAGE = 100;

const one = <T extends string>(list: readonly T[], v: unknown, fallback: T): T => (list.includes(v as T) ? (v as T) : fallback);

export function parseAccountQuery(q: Record<string, string | undefined>): AccountQuery {
  const page = Number(q.page);
  return {
    q: (q.q ?? "").trim().slice(0, 200),
    state: one(STATE_FILTERS, q.state, "all"),
    sort: one(ACCOUNT_SORTS, q.sort, "added"),
    page: Number.isInteger(page) && page > 0 ? page : 0,
  };
}

export function queryString(q: AccountQuery): string {
  const p = new URLSearchParams();
  if (q.q) p.set("q", q.q);
  if (q.state !== "all") p.set("state", q.state);
  if (q.sort !== "added") p.set("sort", q.sort);
  if (q.page) p.set("page", String(q.page));
  return p.toString();
}

const STATE_ORDER: Record<AccountState, number> = { active: 0, cooling: 1, exhausted: 2, disabled: 3 };
const name = (a: AccountView) => (a.label || a.email || a.fingerprint).toLowerCase();
/** Remaining credits; accounts never checked sort last. */
const left = (a: AccountView) => (a.quota ? a.quota.remaining : -1);

const COMPARE: Record<AccountSort, (a: AccountView, b: AccountView) => number> = {
  label: (a, b) => name(a).localeCompare(name(b)),
  state: (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || name(a).localeCompare(name(b)),
  credits: (a, b) => left(b) - left(a),
  used: (a, b) => (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0),
  errors: (a, b) => b.errors - a.errors,
  expiry: (a, b) => (a.accessExpiresAt ?? Infinity) - (b.accessExpiresAt ?? Infinity),
  added: () => 0,
};

/** Filters and sorts the pool's views (label, email, fingerprint and id are searched, any case). */
export function selectAccounts(all: AccountView[], q: AccountQuery): { rows: AccountView[]; total: number; pages: number; page: number } {
  const needle = q.q.toLowerCase();
  const hits = all.filter((a) => (q.state === "all" || a.state === q.state)
    && (!needle || [a.label, a.email ?? "", a.fingerprint, a.id].some((s) => s.toLowerCase().includes(needle))));
  const sorted = q.sort === "added" ? hits : [...hits].sort(COMPARE[q.sort]);
  const pages = Math.max(1, Math.ceil(sorted.length / ACCOUNTS_PER_PAGE));
  const page = Math.min(q.page, pages - 1);
  return { rows: sorted.slice(page * ACCOUNTS_PER_PAGE, (page + 1) * ACCOUNTS_PER_PAGE), total: sorted.length, pages, page };
}
