import type { PanelCtx } from "../context";
import { errorText, field, guardedGroup, htmlResponse } from "../context";
import type { JobRow } from "../shared/jobs";
import { entryName, parseImportText } from "../../pool/import";
import type { AccountInput } from "../../pool/types";
import type { AccountPool } from "../../pool/pool";
import { ACCOUNTS_PER_PAGE, AccountRowView, AccountsPage, AccountsTable, GoneAccount } from "./page";
import { JobReport } from "../shared/components/job";

const CHANGED = { "hx-trigger": "accounts-changed" };
const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

function pageOf(q: unknown): number {
  const n = Number(q);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

const notice = (cls: string, text: string) => <p class={cls} role="status" safe>{text}</p>;

/**
 * Accounts: table from the pool's cached views (never a live call per page view), row actions
 * that swap the row in place, add/import, and bulk jobs (refresh all, check all quotas).
 */
export function accountRoutes(ctx: PanelCtx) {
  const pool = ctx.s.pool;
  const now = () => Date.now();
  const page = (n: number) => {
    const all = pool.list();
    return { rows: all.slice(n * ACCOUNTS_PER_PAGE, (n + 1) * ACCOUNTS_PER_PAGE), total: all.length };
  };

  /** Runs one pool action for one account and answers with the refreshed row (or a note on failure). */
  const rowAction = async (id: string, act: (p: AccountPool) => unknown, done: string) => {
    let note = done;
    try {
      await act(pool);
    } catch (e) {
      note = `failed: ${errorText(e)}`;
    }
    const a = pool.get(id);
    if (!a) return htmlResponse(<GoneAccount />);
    return htmlResponse(<AccountRowView a={a} now={now()} note={note} />);
  };

  /** A job over every account that is not disabled. */
  const bulk = async (title: string, act: (id: string) => Promise<unknown>) => {
    const targets = pool.list().filter((a) => a.state !== "disabled");
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
    return htmlResponse(<JobReport job={job} />, { headers: job.done ? CHANGED : {} });
  };

  return guardedGroup(ctx)
    .get("/accounts", ({ query, session }) => {
      const n = pageOf(query.page);
      const { rows, total } = page(n);
      return htmlResponse(<AccountsPage csrf={session!.csrf} version={ctx.s.version} rows={rows} total={total} page={n} now={now()} />);
    })
    .get("/accounts/table", ({ query }) => {
      const n = pageOf(query.page);
      const { rows, total } = page(n);
      return htmlResponse(<AccountsTable rows={rows} total={total} page={n} now={now()} />);
    })
    .post("/accounts", async ({ body }) => {
      const kind = field(body, "kind") === "idc" ? "idc" : "social";
      const input: AccountInput = {
        kind, refreshToken: field(body, "refreshToken"), label: field(body, "label") || undefined, source: "panel",
        clientId: field(body, "clientId") || undefined, clientSecret: field(body, "clientSecret") || undefined, authRegion: field(body, "authRegion") || undefined,
      };
      if (!input.refreshToken) return htmlResponse(notice("error", "Paste the account's refresh token."), { status: 422 });
      if (kind === "idc" && !(input.clientId && input.clientSecret)) return htmlResponse(notice("error", "IdC accounts need the client id and client secret."), { status: 422 });
      try {
        const r = await pool.upsert(input);
        const text = r.outcome === "skipped" ? `Not added: ${r.why ?? "skipped"}` : `Account ${r.outcome}${r.why ? ` (${r.why})` : ""}.`;
        return htmlResponse(notice(r.outcome === "skipped" ? "error" : "ok-text", text), { headers: CHANGED });
      } catch (e) {
        return htmlResponse(notice("error", `Not added: ${errorText(e)}`), { status: 422 });
      }
    })
    .post("/accounts/import", async ({ body }) => {
      const file = body && typeof body === "object" ? (body as Record<string, unknown>).file : undefined;
      let text = field(body, "text");
      let name = "pasted JSON";
      if (!text && file instanceof Blob && file.size > 0) {
        if (file.size > MAX_IMPORT_BYTES) return htmlResponse(notice("error", "That file is larger than 5 MB."), { status: 413 });
        text = (await file.text()).trim();
        name = file instanceof File && file.name ? file.name.slice(0, 120) : "uploaded file";
      }
      if (!text) return htmlResponse(notice("error", "Paste JSON or choose a file."), { status: 422 });
      const parsed = parseImportText(text, name);
      if ("error" in parsed) return htmlResponse(notice("error", `Cannot import: ${parsed.error}.`), { status: 422 });
      const job = ctx.jobs.start(`Import (${parsed.format})`, parsed.entries, async (e): Promise<JobRow> => {
        if (!e.input) return { name: entryName(e), outcome: "skipped", why: e.skip ?? "unreadable entry", ok: false };
        try {
          const r = await pool.upsert(e.input);
          return { name: entryName(e), outcome: r.outcome, why: r.why, ok: r.outcome !== "skipped" };
        } catch (err) {
          return { name: entryName(e), outcome: "failed", why: errorText(err), ok: false };
        }
      }, 1);
      ctx.s.log.info("panel import started", { format: parsed.format, entries: parsed.entries.length });
      await ctx.jobs.settle(job, 1500);
      return htmlResponse(<JobReport job={job} />, { headers: job.done ? CHANGED : {} });
    })
    .get("/jobs/:id", ({ params }) => {
      const job = ctx.jobs.get(params.id);
      if (!job) return htmlResponse(notice("muted", "That job finished long ago."), { status: 404 });
      return htmlResponse(<JobReport job={job} />, { headers: job.done ? CHANGED : {} });
    })
    .post("/accounts/refresh-all", () => bulk("Refresh all accounts", (id) => pool.refreshNow(id)))
    .post("/accounts/check-all", () => bulk("Check all quotas", (id) => pool.checkQuota(id)))
    .post("/accounts/:id/enable", ({ params }) => rowAction(params.id, (p) => p.setEnabled(params.id, true), "enabled"))
    .post("/accounts/:id/disable", ({ params }) => rowAction(params.id, (p) => p.setEnabled(params.id, false), "disabled"))
    .post("/accounts/:id/refresh", ({ params }) => rowAction(params.id, (p) => p.refreshNow(params.id), "token refreshed"))
    .post("/accounts/:id/quota", ({ params }) => rowAction(params.id, (p) => p.checkQuota(params.id), "quota updated"))
    .post("/accounts/:id/label", ({ params, body }) => rowAction(params.id, (p) => p.setLabel(params.id, field(body, "label").slice(0, 120)), "label saved"))
    .delete("/accounts/:id", ({ params }) => {
      if (!pool.remove(params.id)) return htmlResponse(<GoneAccount />);
      return htmlResponse(<></>, { headers: CHANGED });
    });
}
