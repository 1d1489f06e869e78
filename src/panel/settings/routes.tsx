import type { PanelCtx } from "../context";
import { errorText, field, guardedGroup, htmlResponse } from "../context";
import { runtimeSettingsSchema, type RuntimeSettings } from "../../db/settings-store";
import type { Tr } from "../shared/i18n/tr";
import { type FieldError, NUMBER_FIELDS, SettingsForm, SettingsPage, unitText } from "./page";

/** Form → settings patch, converting friendly units back (seconds → ms). The store validates ranges. */
export function settingsPatch(body: unknown): Partial<RuntimeSettings> {
  const patch: Record<string, unknown> = {
    strategy: field(body, "strategy"),
    logRequestBodies: field(body, "logRequestBodies") === "on",
  };
  for (const f of NUMBER_FIELDS) {
    const v = field(body, f.name);
    if (v !== "") patch[f.name] = Math.round(Number(v) * f.scale);
  }
  return patch as Partial<RuntimeSettings>;
}

type Issue = { path: PropertyKey[]; code?: string; message: string; minimum?: number | bigint; maximum?: number | bigint; expected?: string };

/**
 * The store's validation problems in the form's terms: the field's label and its friendly unit
 * ("Cooldown after a 429 must be at least 1 s"), never the internal name or milliseconds.
 */
export function fieldErrors(tr: Tr, issues: Issue[]): FieldError[] {
  return issues.map((i) => {
    const name = String(i.path[0] ?? "");
    const f = NUMBER_FIELDS.find((x) => x.name === name);
    if (!f) return { name, text: name === "strategy" ? tr.t("settings.err.strategy") : tr.t("settings.err.other", { why: i.message }) };
    const label = tr.t(f.label);
    const unit = unitText(tr, f.unit);
    const value = (n: number | bigint | undefined) => `${Number(n) / f.scale}${unit ? ` ${unit}` : ""}`;
    if (i.code === "too_small" && i.minimum !== undefined) return { name, text: tr.t("settings.err.min", { label, value: value(i.minimum) }) };
    if (i.code === "too_big" && i.maximum !== undefined) return { name, text: tr.t("settings.err.max", { label, value: value(i.maximum) }) };
    if (i.code === "invalid_type" && i.expected === "int") return { name, text: tr.t("settings.err.whole", { label }) };
    return { name, text: tr.t("settings.err.number", { label }) };
  });
}

export function settingsRoutes(ctx: PanelCtx) {
  return guardedGroup(ctx)
    .get("/settings", ({ session, tr }) => htmlResponse(<SettingsPage tr={tr} csrf={session!.csrf} version={ctx.s.version} s={ctx.s.settings.runtime} />))
    .post("/settings", ({ body, tr }) => {
      const patch = settingsPatch(body);
      // Checked here first so every wrong field is named at once, in the form's own words.
      const check = runtimeSettingsSchema.safeParse({ ...ctx.s.settings.runtime, ...patch });
      if (!check.success) return htmlResponse(<SettingsForm tr={tr} s={{ ...ctx.s.settings.runtime, ...patch }} errors={fieldErrors(tr, check.error.issues as Issue[])} />, { status: 422 });
      try {
        const next = ctx.s.settings.update(patch);
        ctx.s.log.info("settings changed in the panel", { strategy: next.strategy, logRequestBodies: next.logRequestBodies });
        return htmlResponse(<SettingsForm tr={tr} s={next} message={tr.t("settings.saved")} />);
      } catch (e) {
        const issues = e && typeof e === "object" && "issues" in e ? (e as { issues: Issue[] }).issues : null;
        const errors = issues ? fieldErrors(tr, issues) : [{ name: "", text: tr.t("settings.err.other", { why: errorText(e) }) }];
        return htmlResponse(<SettingsForm tr={tr} s={ctx.s.settings.runtime} errors={errors} />, { status: 422 });
      }
    });
}
