import type { PanelCtx } from "../context";
import { errorText, field, guardedGroup, htmlResponse } from "../context";
import { listModels, type ModelCatalog } from "../../core/models";
import type { MessageKey, Params } from "../shared/i18n";
import { KeyRow, KeysPage, KeysTable, ModelWarning, NewKeyNotice } from "./page";

const DAY = 86_400_000;
const notice = (text: string) => <p class="error" role="alert" safe>{text}</p>;

type KeyInput = { name: string; allowedModels: string[] | null; expiresAt: number | null; monthlyTokenBudget: number | null };

/** Allow-list entries no model of the catalogue answers to (e.g. "gpt-4o"): the key could never use them. */
export function unknownModels(names: string[], catalog: Pick<ModelCatalog, "find">): string[] {
  return names.filter((n) => !catalog.find(n));
}

/** Parses the create-key form; returns the input for ClientKeys.create or the (catalogue) reason it is invalid. */
export function keyInput(body: unknown, now = Date.now()): { input: KeyInput } | { error: MessageKey; params?: Params } {
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
  return { input: { name, allowedModels: models.length ? models : null, expiresAt, monthlyTokenBudget } };
}

export function keyRoutes(ctx: PanelCtx) {
  const table = () => {
    const now = Date.now();
    return { keys: ctx.s.keys.list(), usage: ctx.rolling.keyUsageSince(now - DAY), now };
  };
  return guardedGroup(ctx)
    .get("/keys", ({ session, tr }) => htmlResponse(<KeysPage tr={tr} csrf={session!.csrf} version={ctx.s.version} modelNames={listModels().filter((m) => !m.aliasOf).map((m) => m.name)} {...table()} />))
    .get("/keys/table", ({ tr }) => htmlResponse(<KeysTable tr={tr} {...table()} />))
    // Checked while the allow-list is typed, so a wrong name is seen before the key exists.
    .get("/keys/check-models", ({ query, tr }) => {
      const names = String(query.models ?? "").split(/[\s,]+/).filter(Boolean).slice(0, 100);
      return htmlResponse(<ModelWarning tr={tr} unknown={unknownModels(names, ctx.s.models)} />);
    })
    .post("/keys", async ({ body, tr }) => {
      const parsed = keyInput(body);
      if ("error" in parsed) return htmlResponse(notice(tr.t(parsed.error, parsed.params)), { status: 422 });
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
      const { usage, now } = table();
      return htmlResponse(<KeyRow tr={tr} k={ctx.s.keys.list().find((x) => x.id === k.id)!} day={usage.get(k.id)} now={now} />);
    });
}
