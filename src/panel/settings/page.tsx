import { Page } from "../shared/layout";
import type { RuntimeSettings } from "../../db/settings-store";
import type { Tr } from "../shared/i18n/tr";
import type { MessageKey } from "../shared/i18n";

export type NumberField = { name: keyof RuntimeSettings; label: MessageKey; unit: "s" | "days" | "MiB" | ""; scale: number; help?: MessageKey };

/** Numeric settings shown in friendly units (seconds/days) and stored in the store's units. */
export const NUMBER_FIELDS: NumberField[] = [
  { name: "cooldownBaseMs", label: "settings.cooldownBase", unit: "s", scale: 1000, help: "settings.cooldownBase.help" },
  { name: "cooldownMaxMs", label: "settings.cooldownMax", unit: "s", scale: 1000 },
  { name: "maxConsecutiveFailures", label: "settings.maxFailures", unit: "", scale: 1 },
  { name: "perAccountConcurrency", label: "settings.concurrency", unit: "", scale: 1 },
  { name: "firstTokenTimeoutMs", label: "settings.firstToken", unit: "s", scale: 1000 },
  { name: "logRetentionDays", label: "settings.retention", unit: "days", scale: 1 },
  { name: "responsesRetentionDays", label: "settings.responsesRetention", unit: "days", scale: 1, help: "settings.responsesRetention.help" },
  { name: "responsesStoreMaxMb", label: "settings.responsesCap", unit: "MiB", scale: 1, help: "settings.responsesCap.help" },
];

export const unitText = (tr: Tr, unit: NumberField["unit"]) => (unit ? tr.t(`unit.${unit}`) : "");

/** A problem with one field, already in the reader's words (label, friendly unit). */
export type FieldError = { name: string; text: string };

export function SettingsForm(props: { tr: Tr; s: RuntimeSettings; message?: string; errors?: FieldError[] }) {
  const { s, tr } = props;
  const t = tr.t;
  const errorOf = (name: string) => props.errors?.find((e) => e.name === name)?.text;
  const general = props.errors?.filter((e) => !NUMBER_FIELDS.some((f) => f.name === e.name) && e.name !== "strategy") ?? [];
  return (
    <form id="settings-form" hx-post="/settings" hx-swap="outerHTML" class="card stack">
      {props.message ? <p class="ok-text" role="status" safe>{props.message}</p> : ""}
      {props.errors?.length ? <p class="error" role="alert" safe>{t("settings.notSaved", { n: props.errors.length })}</p> : ""}
      {general.map((e) => <p class="error" safe>{e.text}</p>)}
      <label><span safe>{t("settings.strategy")}</span>
        <select name="strategy">
          {(["balanced", "round-robin", "priority"] as const).map((v) => <option value={v} selected={s.strategy === v} safe>{t(`settings.strategy.${v}`)}</option>)}
        </select>
        {errorOf("strategy") ? <small class="error field-error" safe>{errorOf("strategy")!}</small> : ""}
      </label>
      {NUMBER_FIELDS.map((f) => {
        const err = errorOf(f.name);
        const unit = unitText(tr, f.unit);
        return (
          <label class={err ? "invalid" : ""}>
            <span safe>{t(f.label) + (unit ? ` (${unit})` : "")}</span>
            <input type="number" name={f.name} value={String((s[f.name] as number) / f.scale)} min="0" step="any" required aria-invalid={err ? "true" : undefined} />
            {err ? <small class="error field-error" data-field={f.name} safe>{err}</small> : f.help ? <small class="muted" safe>{t(f.help)}</small> : ""}
          </label>
        );
      })}
      <label class="check">
        <input type="checkbox" name="logRequestBodies" value="on" checked={s.logRequestBodies} />
        <span safe>{t("settings.logBodies")}</span>
      </label>
      <button type="submit" safe>{t("settings.save")}</button>
    </form>
  );
}

export function SettingsPage(props: { tr: Tr; csrf: string; version: string; s: RuntimeSettings }) {
  return (
    <Page tr={props.tr} title={props.tr.t("nav.settings")} csrf={props.csrf} active="/settings" version={props.version}>
      <SettingsForm tr={props.tr} s={props.s} />
    </Page>
  );
}
