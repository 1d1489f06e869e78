import type { Tr } from "../shared/i18n/tr";
import type { AccountView } from "../../pool/types";
import type { DeviceFlow } from "./device-login";
import { CreditsBar } from "../../../views/components/credits";
import { Time } from "../../../views/components/time";

/** The sign-in card: AWS Builder ID, or IAM Identity Center with its start URL and region. */
export function DeviceLoginCard(props: { tr: Tr; region: string }) {
  const t = props.tr.t;
  return (
    <details class="card" id="sign-in" open>
      <summary safe>{t("device.title")}</summary>
      <p class="muted small" safe>{t("device.help")}</p>
      <form hx-post="/accounts/device" hx-target="#device-flow" hx-swap="innerHTML" class="stack" id="device-form">
        <label><span safe>{t("device.kind")}</span>
          <select name="kind" id="device-kind">
            <option value="builder-id" safe>{t("device.kind.builderId")}</option>
            <option value="idc" safe>{t("device.kind.idc")}</option>
          </select>
        </label>
        <fieldset class="idc" id="device-idc-fields">
          <label><span safe>{t("device.startUrl")}</span> <input name="startUrl" type="url" placeholder="https://my-company.awsapps.com/start" autocomplete="off" /></label>
          <label><span safe>{t("device.region")}</span> <input name="region" value={props.region} placeholder="us-east-1" autocomplete="off" /></label>
        </fieldset>
        <button type="submit" id="device-start" safe>{t("device.start")}</button>
      </form>
      <div id="device-flow"></div>
    </details>
  );
}

/** One sign-in in progress or finished; polls itself while the code waits for approval. */
export function DeviceFlowView(props: { tr: Tr; flow: DeviceFlow; account?: AccountView; now: number }) {
  const { tr, flow, account } = props;
  const t = tr.t;
  const poll = flow.state === "pending" ? { "hx-get": `/accounts/device/${flow.id}`, "hx-trigger": "load delay:1s", "hx-swap": "outerHTML" } : {};
  return (
    <section class={`device-flow d-${flow.state}`} id={`device-${flow.id}`} data-state={flow.state} {...poll}>
      {flow.state === "pending" && flow.userCode ? (
        <>
          <p safe>{t("device.step")}</p>
          <p class="user-code"><code id="device-user-code" safe>{flow.userCode}</code></p>
          <p><a id="device-link" href={flow.verificationUriComplete ?? flow.verificationUri ?? "#"} target="_blank" rel="noopener noreferrer" safe>{flow.verificationUri ?? ""}</a></p>
          <p class="muted small">
            <span safe>{t("device.waiting")}</span>{" "}
            {flow.expiresAt ? <><span safe>{t("device.expires")}</span> <Time tr={tr} at={flow.expiresAt} kind="until" now={props.now} /></> : ""}
          </p>
          <button type="button" class="small secondary" id="device-cancel" hx-post={`/accounts/device/${flow.id}/cancel`} hx-target="closest section" hx-swap="outerHTML" safe>{t("device.cancel")}</button>
        </>
      ) : ""}
      {flow.state === "approved" ? (
        <div class="ok-text" role="status">
          <p safe>{t(flow.outcome === "updated" ? "device.updated" : "device.added", { name: account?.email ?? account?.label ?? "" })}</p>
          {account?.quota ? (
            <p class="muted small"><span safe>{account.quota.subscription ?? ""}</span> <CreditsBar tr={tr} used={account.quota.used} limit={account.quota.limit} /></p>
          ) : ""}
          {flow.quotaError ? <p class="error" safe>{t("device.quotaFailed", { why: tr.said(flow.quotaError) })}</p> : ""}
        </div>
      ) : ""}
      {flow.state === "denied" ? <p class="error" role="alert" safe>{t("device.denied")}</p> : ""}
      {flow.state === "expired" ? <p class="error" role="alert" safe>{t("device.expired")}</p> : ""}
      {flow.state === "cancelled" ? <p class="muted" role="status" safe>{t("device.cancelled")}</p> : ""}
      {flow.state === "failed" ? <p class="error" role="alert" safe>{t("device.failed", { why: tr.said(flow.error) })}</p> : ""}
    </section>
  );
}
