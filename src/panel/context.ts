import { Elysia } from "elysia";
import type { Services } from "../services";
import { allowedHosts, isAllowedHost } from "../admin/host-guard";
import { csrfRefusal, hostOf, hostRefusal, loginRequired, sessionOf } from "../admin/guard";
import { Jobs } from "./shared/jobs";
import { type AdminSessions, sessionsFor } from "../admin/session";
import { RequestLogQueries } from "../logs/request-log";
import { RequestRollups } from "../logs/request-rollup";
import type { RequestLogReader, RollupReader } from "../logs/request-reads";
import { RollingStats, type RequestEvent } from "./shared/rolling";
import { ClusterTraffic, localTraffic, type Traffic } from "./shared/traffic";
import { localeOf } from "./shared/i18n";
import { type Tr, trOf } from "./shared/i18n/tr";

/** What every panel route group shares (built once per app in panelRoutes). */
export type PanelCtx = {
  s: Services;
  sessions: AdminSessions;
  allowed: Set<string>;
  /** Read-side queries over the request log (PostgreSQL: the whole cluster's; `requests.cluster`). */
  requests: RequestLogReader;
  /** Recent traffic for the dashboard charts and per-key usage. */
  traffic: Traffic;
  /** Minute/hour/day aggregates of the request log (usage charts). */
  rollups: RollupReader;
  /** Sends this instance's finished requests to the table the panel reads, so a view shows them. */
  flushLog(): Promise<void>;
  jobs: Jobs;
};

/**
 * Log rows folded per background step (~60 ms of synchronous SQLite work on a laptop, so requests
 * in flight are never held up for long), the pause between backlog steps, and how often new rows
 * are folded once the backlog is done.
 */
const FOLD_BATCH = 5_000;
const FOLD_PAUSE_MS = 25;
const FOLD_EVERY_MS = 30_000;
/** How long a panel view waits for this instance's queued request-log rows to reach PostgreSQL. */
const FLUSH_WAIT_MS = 2_000;

export function makePanelCtx(s: Services): PanelCtx {
  const base = { s, sessions: sessionsFor(s), allowed: allowedHosts(s.config.host, s.config.allowedHosts), jobs: new Jobs() };
  const shared = s.store.requestLogReads;
  if (shared) {
    // Several instances: the panel reads what every instance stored; nothing to fold or seed here.
    // A slow or unreachable database delays a page by at most FLUSH_WAIT_MS here (the rows stay queued).
    const flushLog = async () => {
      s.requestLog.flush();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([shared.flush(), new Promise<void>((r) => { timer = setTimeout(r, FLUSH_WAIT_MS); })]);
      clearTimeout(timer);
    };
    return { ...base, requests: shared.log, traffic: new ClusterTraffic(shared.rollups), rollups: shared.rollups, flushLog };
  }
  const requests = new RequestLogQueries(s.db);
  const rolling = new RollingStats(requests, () => s.requestLog.flush());
  const off = s.bus.on((e) => { if (e.kind === "request") rolling.add(e.data as RequestEvent); });
  // Seed the 24 h buckets off the request path, so the first dashboard view is as fast as the rest.
  const warm = setTimeout(() => { try { rolling.warm(); } catch { /* seeded on first view instead */ } }, 500);
  (warm as { unref?: () => void }).unref?.();
  // Rollups: a backlog (an existing database) is folded in steps right after start, then new rows
  // every FOLD_EVERY_MS and as soon as the server goes quiet (a burst's rows are folded ~2 s after
  // it, before the idle trim, instead of at a timer tick that may land just before the deep trim
  // and keep what the fold allocated and compiled resident); a Usage page view folds whatever is
  // new before it reads.
  const rollups = new RequestRollups(s.db, () => s.requestLog.flush());
  let fold: ReturnType<typeof setTimeout> | undefined;
  const step = () => {
    let moved = 0;
    try { moved = rollups.catchUp(FOLD_BATCH); } catch (e) { s.log.warn("request-log rollup failed", { error: e instanceof Error ? e.message : String(e) }); }
    fold = setTimeout(step, moved >= FOLD_BATCH ? FOLD_PAUSE_MS : FOLD_EVERY_MS);
    (fold as { unref?: () => void }).unref?.();
  };
  fold = setTimeout(step, 1000);
  (fold as { unref?: () => void }).unref?.();
  const foldNow = () => {
    clearTimeout(fold);
    step();
  };
  s.onQuiet.push(foldNow);
  const unhook = () => {
    const i = s.onQuiet.indexOf(foldNow);
    if (i >= 0) s.onQuiet.splice(i, 1);
  };
  s.onShutdown.push(off, unhook, () => clearTimeout(warm), () => clearTimeout(fold));
  return { ...base, requests, traffic: localTraffic(rolling), rollups, flushLog: async () => s.requestLog.flush() };
}

/** The viewer's language for this request (cookie, then Accept-Language). */
export const trFor = (request: Request): Tr => trOf(localeOf(request));

/**
 * A route group whose every route needs the right Host, an admin session and (for writes) the
 * CSRF token. Handlers get `session` and `tr` (the viewer's language).
 */
export function guardedGroup(ctx: PanelCtx) {
  return new Elysia()
    .derive(({ request }) => ({ session: sessionOf(request, ctx.sessions), tr: trFor(request) }))
    .onBeforeHandle(({ request, session, body, tr }) => {
      const refused = hostRefusal(request, ctx.allowed);
      if (refused) return inLanguage(refused, tr.t(isAllowedHost(hostOf(request), ctx.allowed) ? "guard.origin" : "guard.host"));
      if (!session) return inLanguage(loginRequired(request), tr.t("guard.signIn"));
      const csrf = csrfRefusal(request, session, body);
      return csrf ? inLanguage(csrf, tr.t("guard.csrf")) : undefined;
    });
}

/** A refusal from src/admin/guard.ts (shared with the JSON APIs, so English) with its text in the viewer's language. */
function inLanguage(res: Response, text: string): Response {
  if (res.status === 303) return res; // a redirect to /login has no text to show
  return new Response(text, { status: res.status, headers: res.headers });
}

/** Renders a JSX element to an explicit Response (the html plugin rewrites other return values). */
export async function htmlResponse(el: JSX.Element, init: { status?: number; headers?: Record<string, string> } = {}): Promise<Response> {
  const body = await el;
  // Full pages need a doctype (standards mode); fragments for htmx swaps must not get one.
  return new Response(body.startsWith("<html") ? `<!doctype html>${body}` : body, { status: init.status ?? 200, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", vary: "Accept-Language, Cookie", ...init.headers } });
}

/**
 * A form field as text (htmx posts urlencoded or multipart). Elysia decodes values that look like
 * numbers or JSON, so those are turned back into text; files are not fields.
 */
export function field(body: unknown, name: string): string {
  const v = body && typeof body === "object" ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v && typeof v === "object" && !(v instanceof Blob)) return JSON.stringify(v);
  return "";
}

/** All values of a repeated form field (checkboxes): `ids=a&ids=b`. */
export function fields(body: unknown, name: string): string[] {
  const v = body && typeof body === "object" ? (body as Record<string, unknown>)[name] : undefined;
  const list = Array.isArray(v) ? v : v == null ? [] : [v];
  return list.map((x) => (typeof x === "string" ? x.trim() : typeof x === "number" ? String(x) : "")).filter(Boolean);
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
