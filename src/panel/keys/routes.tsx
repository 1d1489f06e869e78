import type { PanelCtx } from "../context";
import { errorText, field, guardedGroup, htmlResponse } from "../context";
import { KeyRow, KeysPage, KeysTable, NewKeyNotice } from "./page";

const DAY = 86_400_000;
const notice = (text: string) => <p class="error" role="alert" safe>{text}</p>;

/** Parses the create-key form; returns the input for ClientKeys.create or the reason it is invalid. */
export function keyInput(body: unknown, now = Date.now()) {
  const name = field(body, "name").slice(0, 80);
  if (!name) return { error: "Give the key a name." };
  const models = field(body, "models").split(/[\s,]+/).filter(Boolean);
  let expiresAt: number | null = null;
  const expires = field(body, "expires");
  if (expires) {
    expiresAt = Date.parse(`${expires}T23:59:59Z`);
    if (!Number.isFinite(expiresAt)) return { error: "The expiry date is not a date." };
    if (expiresAt <= now) return { error: "The expiry date is in the past." };
  }
  let monthlyTokenBudget: number | null = null;
  const budget = field(body, "budget");
  if (budget) {
    monthlyTokenBudget = Number(budget);
    if (!Number.isInteger(monthlyTokenBudget) || monthlyTokenBudget < 1) return { error: "The monthly budget must be a whole number of tokens." };
  }
  return { input: { name, allowedModels: models.length ? models : null, expiresAt, monthlyTokenBudget } };
}

export function keyRoutes(ctx: PanelCtx) {
  const table = () => {
    const now = Date.now();
    return { keys: ctx.s.keys.list(), usage: ctx.rolling.keyUsageSince(now - DAY), now };
  };
  return guardedGroup(ctx)
    .get("/keys", ({ session }) => {
      const t = table();
      return htmlResponse(<KeysPage csrf={session!.csrf} version={ctx.s.version} keys={t.keys} usage={t.usage} now={t.now} />);
    })
    .get("/keys/table", () => {
      const t = table();
      return htmlResponse(<KeysTable keys={t.keys} usage={t.usage} now={t.now} />);
    })
    .post("/keys", async ({ body }) => {
      const parsed = keyInput(body);
      if ("error" in parsed) return htmlResponse(notice(parsed.error!), { status: 422 });
      try {
        const { key, record } = await ctx.s.keys.create(parsed.input!);
        ctx.s.log.info("client key created in the panel", { name: record.name, keyPrefix: record.keyPrefix });
        return htmlResponse(<NewKeyNotice name={record.name} secret={key} />, { headers: { "hx-trigger": "keys-changed" } });
      } catch (e) {
        return htmlResponse(notice(`Not created: ${errorText(e)}`), { status: 500 });
      }
    })
    .post("/keys/:id/revoke", ({ params }) => {
      const k = ctx.s.keys.list().find((x) => x.id === params.id);
      if (!k) return htmlResponse(notice("No such key."), { status: 404 });
      if (k.builtin) return htmlResponse(notice("The built-in key is set by KIRO_CLIENT_TOKEN; change it there."), { status: 409 });
      ctx.s.keys.revoke(k.id);
      ctx.s.log.info("client key revoked in the panel", { name: k.name, keyPrefix: k.keyPrefix });
      const { usage, now } = table();
      return htmlResponse(<KeyRow k={ctx.s.keys.list().find((x) => x.id === k.id)!} day={usage.get(k.id)} now={now} />);
    });
}
