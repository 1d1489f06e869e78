import { Page } from "../shared/layout";
import type { RuntimeSettings } from "../../db/settings-store";

type NumberField = { name: keyof RuntimeSettings; label: string; unit: string; scale: number; help: string };

/** Numeric settings shown in friendly units (seconds/days) and stored in the store's units. */
export const NUMBER_FIELDS: NumberField[] = [
  { name: "cooldownBaseMs", label: "Cooldown after a 429", unit: "s", scale: 1000, help: "doubles per consecutive throttle" },
  { name: "cooldownMaxMs", label: "Longest cooldown", unit: "s", scale: 1000, help: "" },
  { name: "maxConsecutiveFailures", label: "Failures before auto-disable", unit: "", scale: 1, help: "" },
  { name: "perAccountConcurrency", label: "Requests per account at once", unit: "", scale: 1, help: "" },
  { name: "firstTokenTimeoutMs", label: "First-token timeout", unit: "s", scale: 1000, help: "" },
  { name: "logRetentionDays", label: "Keep request log for", unit: "days", scale: 1, help: "" },
];

export function SettingsForm(props: { s: RuntimeSettings; message?: string; error?: string }) {
  const s = props.s;
  return (
    <form id="settings-form" hx-post="/settings" hx-swap="outerHTML" class="card stack">
      {props.message ? <p class="ok-text" role="status" safe>{props.message}</p> : ""}
      {props.error ? <p class="error" role="alert" safe>{props.error}</p> : ""}
      <label>Account selection
        <select name="strategy">
          {(["balanced", "round-robin", "priority"] as const).map((v) => <option value={v} selected={s.strategy === v}>{v}</option>)}
        </select>
      </label>
      {NUMBER_FIELDS.map((f) => (
        <label>
          <span safe>{f.label + (f.unit ? ` (${f.unit})` : "")}</span>
          <input type="number" name={f.name} value={String((s[f.name] as number) / f.scale)} min="0" step="any" required />
          {f.help ? <small class="muted" safe>{f.help}</small> : ""}
        </label>
      ))}
      <label class="check">
        <input type="checkbox" name="logRequestBodies" value="on" checked={s.logRequestBodies} />
        Log request bodies (prompts are stored in the request log; off by default)
      </label>
      <button type="submit">Save settings</button>
    </form>
  );
}

export function SettingsPage(props: { csrf: string; version: string; s: RuntimeSettings }) {
  return (
    <Page title="Settings" csrf={props.csrf} active="/settings" version={props.version}>
      <SettingsForm s={props.s} />
    </Page>
  );
}
