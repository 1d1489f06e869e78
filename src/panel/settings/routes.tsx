import type { PanelCtx } from "../context";
import { errorText, field, guardedGroup, htmlResponse } from "../context";
import type { RuntimeSettings } from "../../db/settings-store";
import { NUMBER_FIELDS, SettingsForm, SettingsPage } from "./page";

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

export function settingsRoutes(ctx: PanelCtx) {
  return guardedGroup(ctx)
    .get("/settings", ({ session }) => htmlResponse(<SettingsPage csrf={session!.csrf} version={ctx.s.version} s={ctx.s.settings.runtime} />))
    .post("/settings", ({ body }) => {
      try {
        const next = ctx.s.settings.update(settingsPatch(body));
        ctx.s.log.info("settings changed in the panel", { strategy: next.strategy, logRequestBodies: next.logRequestBodies });
        return htmlResponse(<SettingsForm s={next} message="Saved." />);
      } catch (e) {
        const msg = e && typeof e === "object" && "issues" in e
          ? (e as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ")
          : errorText(e);
        return htmlResponse(<SettingsForm s={ctx.s.settings.runtime} error={`Not saved — ${msg}`} />, { status: 422 });
      }
    });
}
