import type { PanelCtx } from "../context";
import { guardedGroup, htmlResponse } from "../context";
import { poolCredits } from "../../../views/components/credits";
import { DAY } from "../../logs/request-rollup";
import { RANGES, type Range, usageData } from "./data";
import { csvStream } from "./csv";
import { UsagePage } from "./page";

/** Log rows a page view folds into the rollups itself; a backlog beyond that is left to the background loop. */
const FOLD_ON_VIEW = 5_000;
const MAX_EXPORT_DAYS = 400;

const dayStart = (v: unknown): number | null => {
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return null;
  const t = Date.parse(`${v}T00:00:00Z`);
  return Number.isFinite(t) ? t : null;
};

/** Usage analytics over a chosen range (served from the rollups) and the CSV export of the log. */
export function usageRoutes(ctx: PanelCtx) {
  return guardedGroup(ctx)
    .get("/usage", async ({ query, session, tr }) => {
      const range: Range = (RANGES as readonly string[]).includes(String(query.range)) ? (query.range as Range) : "day";
      await ctx.flushLog();
      const pending = await ctx.rollups.update(FOLD_ON_VIEW);
      const now = Date.now();
      const pool = ctx.s.pool.list();
      const names = {
        account: new Map(pool.map((a) => [a.id, a.label || a.email || a.fingerprint])),
        key: new Map(ctx.s.keys.list().map((k) => [k.id, k.name])),
      };
      return htmlResponse(<UsagePage tr={tr} csrf={session!.csrf} version={ctx.s.version} data={await usageData(ctx.rollups, range, now)}
        names={names} credits={poolCredits(pool)} now={now} pending={pending} />);
    })
    .get("/usage/export.csv", async ({ query, tr }) => {
      const from = dayStart(query.from);
      const toDay = dayStart(query.to);
      const bad = (text: string) => new Response(text, { status: 400, headers: { "content-type": "text/plain; charset=utf-8" } });
      if (from === null) return bad(tr.t("usage.export.err.from"));
      if (toDay === null) return bad(tr.t("usage.export.err.to"));
      if (toDay < from) return bad(tr.t("usage.export.err.order"));
      if (toDay - from > MAX_EXPORT_DAYS * DAY) return bad(tr.t("usage.export.err.long", { n: MAX_EXPORT_DAYS }));
      await ctx.flushLog();
      const name = `kiro-requests-${query.from}-to-${query.to}.csv`;
      return new Response(csvStream(ctx.requests, from, toDay + DAY), {
        headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${name}"`, "cache-control": "no-store" },
      });
    });
}
