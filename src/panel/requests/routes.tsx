import type { PanelCtx } from "../context";
import { guardedGroup, htmlResponse } from "../context";
import type { RequestFilter } from "../../logs/request-log";
import { listModels } from "../../core/models";
import { type KnownValues, NoRequests, RequestDetailView, RequestRows, RequestsPage } from "./page";

const MAX_SUGGESTIONS = 300;

/** Filter suggestions from what is already in memory (model table, pool, keys): no query over the log. */
function known(ctx: PanelCtx): KnownValues {
  const uniq = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => !!x))].sort().slice(0, MAX_SUGGESTIONS);
  return {
    models: uniq(listModels().filter((m) => !m.aliasOf).map((m) => m.name)),
    accounts: uniq(ctx.s.pool.list().map((a) => a.label || a.email)),
    keys: uniq(ctx.s.keys.list().map((k) => k.name)),
  };
}

function filterOf(q: Record<string, string | undefined>): RequestFilter {
  const text = (v: string | undefined) => (v && v.trim() ? v.trim().slice(0, 200) : undefined);
  const before = Number(q.before);
  return {
    status: q.status === "ok" || q.status === "error" ? q.status : undefined,
    dialect: text(q.dialect), model: text(q.model), account: text(q.account), key: text(q.key), instance: text(q.instance),
    before: Number.isInteger(before) && before > 0 ? before : undefined,
  };
}

/** Paginated request log with filters; a row opens its details (body only when body logging is on). */
export function requestRoutes(ctx: PanelCtx) {
  return guardedGroup(ctx)
    .get("/requests", async ({ query, session, tr }) => {
      await ctx.flushLog(); // show requests that just finished, not only the last batch
      const filter = filterOf(query);
      return htmlResponse(<RequestsPage tr={tr} csrf={session!.csrf} version={ctx.s.version} rows={await ctx.requests.page(filter)} filter={filter} now={Date.now()}
        known={known(ctx)} cluster={ctx.requests.cluster} />);
    })
    .get("/requests/rows", async ({ query, tr }) => {
      await ctx.flushLog();
      const filter = filterOf(query);
      const rows = await ctx.requests.page(filter);
      const cluster = ctx.requests.cluster;
      if (!rows.length && !filter.before) return htmlResponse(<NoRequests tr={tr} filtered cluster={cluster} />);
      return htmlResponse(<RequestRows tr={tr} rows={rows} filter={filter} now={Date.now()} cluster={cluster} />);
    })
    .get("/requests/:id", async ({ params, tr }) => {
      const r = await ctx.requests.get(Number(params.id));
      if (!r) return htmlResponse(<p class="muted" safe>{tr.t("requests.gone")}</p>, { status: 404 });
      return htmlResponse(<RequestDetailView tr={tr} r={r} bodiesLogged={ctx.s.settings.runtime.logRequestBodies} />);
    });
}
