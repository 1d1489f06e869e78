import type { PanelCtx } from "../context";
import { guardedGroup, htmlResponse } from "../context";
import { hostOf } from "../../admin/guard";
import type { Tr } from "../shared/i18n/tr";
import { poolCredits } from "../shared/components/credits";
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

/** Everything the self-refreshing part of the dashboard shows, from cached state only. */
function live(ctx: PanelCtx, tr: Tr) {
  return {
    tr, now: Date.now(), pool: ctx.s.pool.summary(), soonest: soonest(ctx), credits: poolCredits(ctx.s.pool.list()),
    hour: ctx.rolling.series(MINUTE, 60), day: ctx.rolling.series(HOUR, 24),
  };
}

export function dashboardRoutes(ctx: PanelCtx) {
  return guardedGroup(ctx)
    .get("/", async ({ request, session, tr }) => {
      const host = hostOf(request);
      return htmlResponse(
        <DashboardPage csrf={session!.csrf} version={ctx.s.version} baseUrl={`http://${host}`} clientKey={await builtinKey(ctx)} {...live(ctx, tr)} />,
      );
    })
    // Polled every 15 s by the open dashboard (while its tab is visible).
    .get("/dashboard/live", ({ tr }) => htmlResponse(<DashboardLive {...live(ctx, tr)} />));
}
