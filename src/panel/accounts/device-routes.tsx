import type { PanelCtx } from "../context";
import { field, guardedGroup, htmlResponse } from "../context";
import { DeviceLogins } from "./device-login";
import { DeviceFlowView } from "./device-page";

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const notice = (text: string) => <p class="error" role="alert" safe>{text}</p>;

/** Sign-in with AWS Builder ID / IAM Identity Center: start, poll (the page), cancel. */
export function deviceRoutes(ctx: PanelCtx) {
  const logins = new DeviceLogins({ upstream: ctx.s.upstream, pool: ctx.s.pool, log: ctx.s.log });
  ctx.s.onShutdown.push(() => logins.close());
  const view = (id: string, tr: Parameters<typeof DeviceFlowView>[0]["tr"]) => {
    const flow = logins.get(id);
    if (!flow) return htmlResponse(notice(tr.t("device.gone")), { status: 404 });
    const account = flow.accountId ? ctx.s.pool.get(flow.accountId) : undefined;
    return htmlResponse(<DeviceFlowView tr={tr} flow={flow} account={account} now={Date.now()} />, { headers: flow.state === "approved" ? { "hx-trigger": "accounts-changed" } : {} });
  };

  return guardedGroup(ctx)
    .post("/accounts/device", async ({ body, tr }) => {
      const kind = field(body, "kind") === "idc" ? "idc" : "builder-id";
      const region = field(body, "region") || ctx.s.upstream.region;
      if (!REGION.test(region)) return htmlResponse(notice(tr.t("device.err.region", { value: region })), { status: 422 });
      let startUrl: string | undefined;
      if (kind === "idc") {
        startUrl = field(body, "startUrl");
        let ok = false;
        try { ok = new URL(startUrl).protocol === "https:"; } catch { /* not a URL */ }
        if (!ok) return htmlResponse(notice(tr.t("device.err.startUrl")), { status: 422 });
      }
      const flow = await logins.start({ kind, startUrl, region });
      return view(flow.id, tr);
    })
    .get("/accounts/device/:id", ({ params, tr }) => view(params.id, tr))
    .post("/accounts/device/:id/cancel", ({ params, tr }) => {
      logins.cancel(params.id);
      return view(params.id, tr);
    });
}
