import type { PanelCtx } from "../context";
import { errorText, field, guardedGroup, htmlResponse } from "../context";
import { listModels, type ModelCatalog } from "../../core/models";
import { keyLimitsSchema, type KeyLimitsInput } from "../../keys/client-keys";
import type { MessageKey, Params } from "../shared/i18n";
import type { Tr } from "../shared/i18n/tr";
import { KeyRow, KeysPage, KeysTable, ModelWarning, NewKeyNotice } from "./page";

const DAY = 86_400_000;
const notice = (text: string) => <p class="error" role="alert" safe>{text}</p>;

type KeyInput = { name: string; allowedModels: string[] | null; expiresAt: number | null; monthlyTokenBudget: number | null } & KeyLimitsInput;

/** The rate-limit fields of the key forms: form name, stored name, label. */
export const LIMIT_FIELDS = [
  { form: "rpm", name: "rpmLimit", label: "keys.f.rpm" },
  { form: "tpm", name: "tpmLimit", label: "keys.f.tpm" },
  { form: "concurrency", name: "concurrencyLimit", label: "keys.f.concurrency" },
] as const satisfies readonly { form: string; name: keyof KeyLimitsInput; label: MessageKey }[];

type Failure = { error: MessageKey; params?: Params };

/**
 * The rate limits of a key form (empty = no limit), checked by the store's own schema and its
 * problems said with the field's label.
 */
export function limitsInput(body: unknown): { limits: Required<{ [K in keyof KeyLimitsInput]: number | null }> } | Failure {
  const raw: Record<string, number | null> = {};
  for (const f of LIMIT_FIELDS) {
    const v = field(body, f.form).trim();
    raw[f.name] = v === "" ? null : Number(v);
  }
  const check = keyLimitsSchema.safeParse(raw);
  if (!check.success) {
    const issue = check.error.issues[0]!;
    const f = LIMIT_FIELDS.find((x) => x.name === issue.path[0])!;
    const max = issue.code === "too_big" ? Number((issue as { maximum?: number | bigint }).maximum) : null;
    return max !== null ? { error: "keys.err.limitMax", params: { field: f.form, max } } : { error: "keys.err.limit", params: { field: f.form } };
  }
  return { limits: { rpmLimit: check.data.rpmLimit ?? null, tpmLimit: check.data.tpmLimit ?? null, concurrencyLimit: check.data.concurrencyLimit ?? null } };
}

/** A limit failure in the reader's words: the field's label instead of its form name. */
const failureText = (tr: Tr, f: Failure): string => {
  const lim = LIMIT_FIELDS.find((x) => x.form === f.params?.field);
  return tr.t(f.error, lim ? { ...f.params, label: tr.t(lim.label), max: tr.int(Number(f.params?.max ?? 0)) } : f.params);
};

/** Allow-list entries no model of the catalogue answers to (e.g. "gpt-4o"): the key could never use them. */
export function unknownModels(names: string[], catalog: Pick<ModelCatalog, "find">): string[] {
  return names.filter((n) => !catalog.find(n));
}

/** Parses the create-key form; returns the input for ClientKeys.create or the (catalogue) reason it is invalid. */
export function keyInput(body: unknown, now = Date.now()): { input: KeyInput } | Failure {
  const name = field(body, "name").slice(0, 80);
  if (!name) return { error: "keys.err.name" };
  const models = [...new Set(field(body, "models").split(/[\s,]+/).filter(Boolean))];
  let expiresAt: number | null = null;
  const expires = field(body, "expires");
  if (expires) {
    expiresAt = Date.parse(`${expires}T23:59:59Z`);
    if (!Number.isFinite(expiresAt)) return { error: "keys.err.expiryNotDate" };
    if (expiresAt <= now) return { error: "keys.err.expiryPast" };
  }
  let monthlyTokenBudget: number | null = null;
  const budget = field(body, "budget");
  if (budget) {
    monthlyTokenBudget = Number(budget);
    if (!Number.isInteger(monthlyTokenBudget) || monthlyTokenBudget < 1) return { error: "keys.err.budget" };
  }
  const limits = limitsInput(body);
  if ("error" in limits) return limits;
  return { input: { name, allowedModels: models.length ? models : null, expiresAt, monthlyTokenBudget, ...limits.limits } };
}

export function keyRoutes(ctx: PanelCtx) {
  const table = async () => {
    const now = Date.now();
    return { keys: ctx.s.keys.list(), usage: await ctx.traffic.keyUsageSince(now - DAY), live: (id: string) => ctx.s.keyLimiter.usage(id), now };
  };
  const row = async (tr: Tr, id: string, extra: { limitsError?: string } = {}) => {
    const { usage, live, now } = await table();
    const k = ctx.s.keys.list().find((x) => x.id === id)!;
    return <KeyRow tr={tr} k={k} day={usage.get(k.id)} live={live(k.id)} now={now} {...extra} />;
  };
  return guardedGroup(ctx)
    .get("/keys", async ({ session, tr }) => htmlResponse(<KeysPage tr={tr} csrf={session!.csrf} version={ctx.s.version} modelNames={listModels().filter((m) => !m.aliasOf).map((m) => m.name)} {...await table()} />))
    .get("/keys/table", async ({ tr }) => htmlResponse(<KeysTable tr={tr} {...await table()} />))
    // Checked while the allow-list is typed, so a wrong name is seen before the key exists.
    .get("/keys/check-models", ({ query, tr }) => {
      const names = String(query.models ?? "").split(/[\s,]+/).filter(Boolean).slice(0, 100);
      return htmlResponse(<ModelWarning tr={tr} unknown={unknownModels(names, ctx.s.models)} />);
    })
    .post("/keys", async ({ body, tr }) => {
      const parsed = keyInput(body);
      if ("error" in parsed) return htmlResponse(notice(failureText(tr, parsed)), { status: 422 });
      try {
        const { key, record } = await ctx.s.keys.create(parsed.input);
        ctx.s.log.info("client key created in the panel", { name: record.name, keyPrefix: record.keyPrefix });
        const unknown = unknownModels(parsed.input.allowedModels ?? [], ctx.s.models);
        return htmlResponse(<NewKeyNotice tr={tr} name={record.name} secret={key} unknown={unknown} />, { headers: { "hx-trigger": "keys-changed" } });
      } catch (e) {
        return htmlResponse(notice(tr.t("keys.err.notCreated", { why: errorText(e) })), { status: 500 });
      }
    })
    .post("/keys/:id/revoke", ({ params, tr }) => {
      const k = ctx.s.keys.list().find((x) => x.id === params.id);
      if (!k) return htmlResponse(notice(tr.t("keys.err.noSuchKey")), { status: 404 });
      if (k.builtin) return htmlResponse(notice(tr.t("keys.err.builtin")), { status: 409 });
      ctx.s.keys.revoke(k.id);
      ctx.s.log.info("client key revoked in the panel", { name: k.name, keyPrefix: k.keyPrefix });
      return htmlResponse(row(tr, k.id));
    })
    // Rate limits stay editable after the key is made; the answer is the key's row, redrawn.
    .post("/keys/:id/limits", ({ params, body, tr }) => {
      const k = ctx.s.keys.list().find((x) => x.id === params.id);
      if (!k) return htmlResponse(notice(tr.t("keys.err.noSuchKey")), { status: 404 });
      const parsed = limitsInput(body);
      if ("error" in parsed) return htmlResponse(row(tr, k.id, { limitsError: failureText(tr, parsed) }), { status: 422 });
      ctx.s.keys.setLimits(k.id, parsed.limits);
      ctx.s.log.info("client key limits changed in the panel", { name: k.name, keyPrefix: k.keyPrefix, ...parsed.limits });
      return htmlResponse(row(tr, k.id));
    });
}
