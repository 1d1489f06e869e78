import type { PanelCtx } from "../context";
import { guardedGroup, htmlResponse } from "../context";
import { hostOf } from "../../admin/guard";
import type { Tr } from "../shared/i18n/tr";
import { poolCredits } from "../../../views/components/credits";
import { DashboardLive, DashboardPage } from "./page";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** The built-in client key (KIRO_CLIENT_TOKEN or the generated one), decrypted for display. */
async function builtinKey(ctx: PanelCtx): Promise<string | null> {
  const row = ctx.s.keys.list().find((k) => k.builtin && !k.revokedAt);
  if (!row?.keyEnc) return null;
  try {
    return await ctx.s.box.decrypt(row.keyEnc);
  } catch {
    return null;
  }
}

/** When the first cooling and the first exhausted account come back (from the pool's cached views). */
function soonest(ctx: PanelCtx): { cooling?: number; exhausted?: number } {
  const out: { cooling?: number; exhausted?: number } = {};
  for (const a of ctx.s.pool.list()) {
    if ((a.state === "cooling" || a.state === "exhausted") && a.stateUntil) out[a.state] = Math.min(out[a.state] ?? Infinity, a.stateUntil);
  }
  return out;
}

/**
 * Everything the self-refreshing part of the dashboard shows: the pool from memory, the traffic
 * from in-memory buckets (one instance) or the cluster's minute aggregates (several instances,
 * which also get requests per instance over the last hour).
 */
async function live(ctx: PanelCtx, tr: Tr) {
  const now = Date.now();
  if (ctx.requests.cluster) await ctx.flushLog(); // this instance's last requests are counted too
  const [hour, day, instances] = await Promise.all([
    ctx.traffic.series(MINUTE, 60),
    ctx.traffic.series(HOUR, 24),
    ctx.requests.cluster ? ctx.requests.instanceCounts(now - HOUR).then((rows) => ({ self: ctx.s.config.instanceId, rows })) : null,
  ]);
  return {
    tr, now, pool: ctx.s.pool.summary(), soonest: soonest(ctx), credits: poolCredits(ctx.s.pool.list()), queue: ctx.s.pool.queueStats(),
    hour, day, instances,
  };
}

export function dashboardRoutes(ctx: PanelCtx) {
  return guardedGroup(ctx)
    .get("/", async ({ request, session, tr }) => {
      const host = hostOf(request);
      return htmlResponse(
        <DashboardPage csrf={session!.csrf} version={ctx.s.version} baseUrl={`http://${host}`} clientKey={await builtinKey(ctx)} {...await live(ctx, tr)} />,
      );
    })
    // Polled every 15 s by the open dashboard (while its tab is visible).
    .get("/dashboard/live", async ({ tr }) => htmlResponse(<DashboardLive {...await live(ctx, tr)} />));
}
