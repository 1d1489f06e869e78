import type { PanelCtx } from "../context";
import { errorText, field, fields, guardedGroup, htmlResponse } from "../context";
import type { JobRow, JobTitle } from "../shared/jobs";
import { entryName, parseImportText } from "../../pool/import";
import type { AccountInput, UpsertResult } from "../../pool/types";
import { reasonText } from "../../pool/reasons";
import type { Tr } from "../shared/i18n/tr";
import type { MessageKey } from "../shared/i18n";
import { JobReport } from "../../../views/components/job";
import { AccountRowView, AccountsPage, AccountsTable, GoneAccount } from "./page";
import { parseAccountQuery, selectAccounts } from "./query";

const CHANGED = { "hx-trigger": "accounts-changed" };
const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

const notice = (cls: string, text: string) => <p class={cls} role="status" safe>{text}</p>;

type BulkAction = "enable" | "disable" | "refresh" | "quota" | "delete";
const BULK_TITLES: Record<BulkAction, MessageKey> = {
  enable: "job.title.enable", disable: "job.title.disable", refresh: "job.title.refresh", quota: "job.title.quota", delete: "job.title.delete",
};

/**
 * Accounts: table from the pool's cached views (never a live call per page view) with search,
 * state filter and sort; row actions that swap the row in place; add, import and sign-in (each
 * fetches the new account's quota at once, so email, plan and credits show without a manual
 * check); bulk actions on ticked rows or on every account, run as jobs with progress.
 */
export function accountRoutes(ctx: PanelCtx) {
  const pool = ctx.s.pool;
  const now = () => Date.now();
  const table = (query: Record<string, string | undefined>) => {
    const q = parseAccountQuery(query);
    const all = pool.list();
    const sel = selectAccounts(all, q);
    return { rows: sel.rows, total: sel.total, all: all.length, pages: sel.pages, query: { ...q, page: sel.page } };
  };

  /** Adds or updates an account, then fetches its quota (email, plan, credits); a failed check is reported, not fatal. */
  const addWithQuota = async (input: AccountInput): Promise<UpsertResult & { quotaError?: string }> => {
    const r = await pool.upsert(input);
    if (r.outcome === "skipped" || !r.id) return r;
    try {
      await pool.checkQuota(r.id);
      return r;
    } catch (e) {
      return { ...r, quotaError: errorText(e) };
    }
  };

  /** Runs one pool action for one account and answers with the refreshed row (or a note on failure). */
  const rowAction = async (tr: Tr, id: string, act: () => unknown, done: MessageKey) => {
    let note = tr.t(done);
    try {
      await act();
    } catch (e) {
      note = tr.t("accounts.actionFailed", { why: tr.said(errorText(e)) });
    }
    const a = pool.get(id);
    if (!a) return htmlResponse(<GoneAccount tr={tr} />);
    return htmlResponse(<AccountRowView tr={tr} a={a} now={now()} note={note} />);
  };

  /** A job over the given accounts, answered with its report (which polls itself until done). */
  const runJob = async (tr: Tr, title: JobTitle, ids: string[], act: (id: string) => Promise<unknown>) => {
    const targets = ids.map((id) => pool.get(id)).filter((a) => !!a);
    const job = ctx.jobs.start(title, targets, async (a): Promise<JobRow> => {
      const name = a.label || a.email || a.fingerprint;
      try {
        await act(a.id);
        return { name, outcome: "ok", ok: true };
      } catch (e) {
        return { name, outcome: "failed", why: errorText(e), ok: false };
      }
    });
    await ctx.jobs.settle(job, 1500);
    return htmlResponse(<JobReport tr={tr} job={job} />, { headers: job.done ? CHANGED : {} });
  };
  const notDisabled = () => pool.list().filter((a) => a.state !== "disabled").map((a) => a.id);
  const bulkAct: Record<BulkAction, (id: string) => Promise<unknown>> = {
    enable: async (id) => pool.setEnabled(id, true),
    disable: async (id) => pool.setEnabled(id, false),
    refresh: (id) => pool.refreshNow(id),
    quota: (id) => pool.checkQuota(id),
    delete: async (id) => { if (!pool.remove(id)) throw new Error(reasonText("job.gone")); },
  };

  return guardedGroup(ctx)
    .get("/accounts", ({ query, session, tr }) => {
      const t = table(query);
      return htmlResponse(<AccountsPage tr={tr} csrf={session!.csrf} version={ctx.s.version} region={ctx.s.upstream.region} now={now()} {...t} />);
    })
    .get("/accounts/table", ({ query, tr }) => htmlResponse(<AccountsTable tr={tr} now={now()} {...table(query)} />))
    .post("/accounts", async ({ body, tr }) => {
      const t = tr.t;
      const kind = field(body, "kind") === "idc" ? "idc" : "social";
      const authRegion = field(body, "authRegion");
      const input: AccountInput = {
        kind, refreshToken: field(body, "refreshToken"), label: field(body, "label") || undefined, source: "panel",
        clientId: field(body, "clientId") || undefined, clientSecret: field(body, "clientSecret") || undefined, authRegion: authRegion || undefined,
      };
      if (!input.refreshToken) return htmlResponse(notice("error", t("accounts.err.noToken")), { status: 422 });
      if (kind === "idc" && !(input.clientId && input.clientSecret)) return htmlResponse(notice("error", t("accounts.err.idcClient")), { status: 422 });
      if (authRegion && !REGION.test(authRegion)) return htmlResponse(notice("error", t("accounts.err.region", { value: authRegion })), { status: 422 });
      try {
        const r = await addWithQuota(input);
        if (r.outcome === "skipped") return htmlResponse(notice("error", t("accounts.notAdded", { why: tr.said(r.why) })), { headers: CHANGED });
        const text = t(r.outcome === "added" ? "accounts.added" : "accounts.updated") + (r.why ? ` (${tr.said(r.why)})` : "")
          + (r.quotaError ? ` ${t("accounts.quotaFailed", { why: tr.said(r.quotaError) })}` : "");
        return htmlResponse(notice("ok-text", text), { headers: CHANGED });
      } catch (e) {
        return htmlResponse(notice("error", t("accounts.notAdded", { why: tr.said(errorText(e)) })), { status: 422 });
      }
    })
    .post("/accounts/import", async ({ body, tr }) => {
      const t = tr.t;
      const file = body && typeof body === "object" ? (body as Record<string, unknown>).file : undefined;
      let text = field(body, "text");
      let name = "pasted JSON";
      if (!text && file instanceof Blob && file.size > 0) {
        if (file.size > MAX_IMPORT_BYTES) return htmlResponse(notice("error", t("accounts.import.tooLarge")), { status: 413 });
        text = (await file.text()).trim();
        name = file instanceof File && file.name ? file.name.slice(0, 120) : "uploaded file";
      }
      if (!text) return htmlResponse(notice("error", t("accounts.import.empty")), { status: 422 });
      const parsed = parseImportText(text, name);
      if ("error" in parsed) return htmlResponse(notice("error", t("accounts.import.cannot", { why: tr.said(parsed.error) })), { status: 422 });
      const job = ctx.jobs.start({ key: "job.title.import", paramKeys: { format: `import.format.${parsed.formatId}` } }, parsed.entries, async (e): Promise<JobRow> => {
        if (!e.input) return { name: entryName(e), outcome: "skipped", why: e.skip ?? reasonText("import.unreadable"), ok: false };
        try {
          const r = await addWithQuota(e.input);
          return { name: entryName(e), outcome: r.outcome, why: r.why ?? r.quotaError, ok: r.outcome !== "skipped" };
        } catch (err) {
          return { name: entryName(e), outcome: "failed", why: errorText(err), ok: false };
        }
      }, 1);
      ctx.s.log.info("panel import started", { format: parsed.format, entries: parsed.entries.length });
      await ctx.jobs.settle(job, 1500);
      return htmlResponse(<JobReport tr={tr} job={job} />, { headers: job.done ? CHANGED : {} });
    })
    .get("/jobs/:id", ({ params, tr }) => {
      const job = ctx.jobs.get(params.id);
      if (!job) return htmlResponse(notice("muted", tr.t("job.gone")), { status: 404 });
      return htmlResponse(<JobReport tr={tr} job={job} />, { headers: job.done ? CHANGED : {} });
    })
    .post("/accounts/refresh-all", ({ tr }) => runJob(tr, { key: "job.title.refreshAll" }, notDisabled(), (id) => pool.refreshNow(id)))
    .post("/accounts/check-all", ({ tr }) => runJob(tr, { key: "job.title.checkAll" }, notDisabled(), (id) => pool.checkQuota(id)))
    .post("/accounts/bulk/:action", ({ params, body, tr }) => {
      const action = params.action as BulkAction;
      if (!(action in bulkAct)) return htmlResponse(notice("error", tr.t("accounts.bulk.unknown")), { status: 404 });
      const ids = fields(body, "ids");
      if (!ids.length) return htmlResponse(notice("error", tr.t("accounts.bulk.none")), { status: 422 });
      return runJob(tr, { key: BULK_TITLES[action], params: { n: ids.length } }, ids, bulkAct[action]);
    })
    .post("/accounts/:id/enable", ({ params, tr }) => rowAction(tr, params.id, () => pool.setEnabled(params.id, true), "accounts.note.enabled"))
    .post("/accounts/:id/disable", ({ params, tr }) => rowAction(tr, params.id, () => pool.setEnabled(params.id, false), "accounts.note.disabled"))
    .post("/accounts/:id/refresh", ({ params, tr }) => rowAction(tr, params.id, () => pool.refreshNow(params.id), "accounts.note.refreshed"))
    .post("/accounts/:id/quota", ({ params, tr }) => rowAction(tr, params.id, () => pool.checkQuota(params.id), "accounts.note.quota"))
    .post("/accounts/:id/label", ({ params, body, tr }) => rowAction(tr, params.id, () => pool.setLabel(params.id, field(body, "label").slice(0, 120)), "accounts.note.label"))
    .delete("/accounts/:id", ({ params, tr }) => {
      if (!pool.remove(params.id)) return htmlResponse(<GoneAccount tr={tr} />);
      return htmlResponse(<></>, { headers: CHANGED });
    });
}
