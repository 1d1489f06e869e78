import { Page } from "../../../views/layouts/panel";
import { StateBadge } from "../../../views/components/badges";
import { CreditsBar } from "../../../views/components/credits";
import { Time } from "../../../views/components/time";
import type { AccountView } from "../../pool/types";
import type { Tr } from "../shared/i18n/tr";
import { ACCOUNT_SORTS, type AccountQuery, STATE_FILTERS, queryString } from "./query";
import { DeviceLoginCard } from "./device-page";

export const ACCOUNT_COLUMNS = 9;

/**
 * The account's pacing: requests started in the pacing window against the per-account limit, and
 * when it may start the next one (only while it has to wait).
 */
function PacingLine(props: { tr: Tr; a: AccountView; now: number }) {
  const { tr, now } = props;
  const p = props.a.pacing;
  const t = tr.t;
  const window = tr.int(Math.round(p.windowMs / 1000));
  const used = p.limit > 0 ? t("accounts.pacing.of", { n: tr.int(p.recentRequests), limit: tr.int(p.limit), s: window }) : t("accounts.pacing.noLimit", { n: tr.int(p.recentRequests), s: window });
  return (
    <small class={`muted pacing${p.limit > 0 && p.recentRequests >= p.limit ? " warn-text" : ""}`} data-pacing={`${p.recentRequests}/${p.limit}`} title={t("accounts.pacing.help")}>
      <span safe>{used}</span>
      {p.nextSlotAt && p.nextSlotAt > now ? <> · <span safe>{t("accounts.pacing.next")}</span> <Time tr={tr} at={p.nextSlotAt} kind="until" now={now} /></> : ""}
    </small>
  );
}

/**
 * One account as its own <tbody>: the facts on the first row, the actions (and the note of the last
 * action) on a second, so the table fits a laptop width. Actions swap the whole tbody in place; on
 * a phone each tbody becomes a card (views/assets/panel.css). The label is an editable text area
 * that grows with its text, so a long label shows whole. Tokens never appear, only the fingerprint.
 */
export function AccountRowView(props: { tr: Tr; a: AccountView; now: number; note?: string }) {
  const { a, now, tr } = props;
  const t = tr.t;
  const q = a.quota;
  const base = `/accounts/${encodeURIComponent(a.id)}`;
  const act = (path: string, label: string) => (
    <button type="button" class="small" hx-post={`${base}/${path}`} hx-target="closest tbody" hx-swap="outerHTML" safe>{label}</button>
  );
  const name = a.label || a.email || a.fingerprint;
  return (
    <tbody id={`acct-${a.id}`} data-account={a.id} class="acct">
      <tr>
        <td class="pick"><input type="checkbox" name="ids" value={a.id} aria-label={t("accounts.select", { name })} /></td>
        <td data-label={t("accounts.col.account")} class="who">
          <textarea class="label-edit" name="label" rows="1" maxlength="120" placeholder={t("accounts.labelPlaceholder")} aria-label={t("accounts.label")}
            data-label={a.label} hx-post={`${base}/label`} hx-trigger="change" hx-target="closest tbody" hx-swap="outerHTML" safe>{a.label}</textarea>
          {a.email ? <div class="email" safe>{a.email}</div> : ""}
          <code class="fp" title={t("accounts.fingerprint")} safe>{a.fingerprint}</code>
        </td>
        <td data-label={t("accounts.col.auth")} safe>{a.kind === "idc" ? "IdC" : a.kind === "api_key" ? "API key" : t("accounts.kind.social")}</td>
        <td data-label={t("accounts.col.state")} class="state-cell">
          <StateBadge tr={tr} state={a.state} reason={a.stateReason ?? null} until={a.stateUntil ?? null} now={now} />
          <PacingLine tr={tr} a={a} now={now} />
        </td>
        <td data-label={t("accounts.col.plan")} class="plan" safe>{q?.subscription ?? "—"}</td>
        <td data-label={t("accounts.col.credits")} class="credits-cell">
          {q ? (
            <>
              <CreditsBar tr={tr} used={q.used} limit={q.limit} />
              {q.resetAt ? <small class="muted reset"><span safe>{t("credits.resets")}</span> <Time tr={tr} at={q.resetAt} kind="until" now={now} /></small> : ""}
            </>
          ) : <span class="muted" safe>{t("accounts.quotaUnknown")}</span>}
        </td>
        <td data-label={t("accounts.col.expiry")} class="nowrap expiry">
          {a.accessExpiresAt ? <Time tr={tr} at={a.accessExpiresAt} kind="until" now={now} /> : <span>—</span>}
        </td>
        <td data-label={t("accounts.col.used")} class="nowrap">
          <span safe>{tr.ago(a.lastUsedAt, now)}</span>
          <small class="muted counts" safe>{t("accounts.counts", { requests: tr.int(a.requests), errors: tr.int(a.errors) })}</small>
        </td>
        <td data-label={t("accounts.col.lastError")} class="errs">
          {a.lastError ? <small class="err-text" safe>{tr.said(a.lastError)}</small> : <span class="muted">—</span>}
        </td>
      </tr>
      <tr class="acct-actions">
        <td colspan={String(ACCOUNT_COLUMNS)}>
          <div class="actions">
            {a.state === "disabled" ? act("enable", t("accounts.enable")) : act("disable", t("accounts.disable"))}
            {act("refresh", t("accounts.refresh"))}
            {act("quota", t("accounts.checkQuota"))}
            <button type="button" class="small danger" hx-delete={base} hx-target="closest tbody" hx-swap="outerHTML"
              hx-confirm={t("accounts.deleteConfirm", { name })} safe>{t("accounts.delete")}</button>
            {props.note ? <small class="note" safe>{props.note}</small> : ""}
          </div>
        </td>
      </tr>
    </tbody>
  );
}

/** What a row action answers when its account went away meanwhile. */
export function GoneAccount(props: { tr: Tr }) {
  return <tbody class="acct"><tr><td colspan={String(ACCOUNT_COLUMNS)} class="muted" safe>{props.tr.t("accounts.gone")}</td></tr></tbody>;
}

export function AccountsTable(props: { tr: Tr; rows: AccountView[]; total: number; all: number; query: AccountQuery; pages: number; now: number }) {
  const { tr, query } = props;
  const t = tr.t;
  const link = (page: number) => `/accounts?${queryString({ ...query, page })}`;
  return (
    <div id="accounts-table" hx-get="/accounts/table" hx-include="#account-filters" hx-trigger="accounts-changed from:body" hx-swap="outerHTML" data-total={String(props.total)}>
      <p class="muted small" id="accounts-count" safe>{props.total === props.all ? t("accounts.countAll", { n: tr.int(props.all) }) : t("accounts.countFiltered", { n: tr.int(props.total), all: tr.int(props.all) })}</p>
      <div class="scroll">
        <table class="grid accounts cards">
          <thead>
            <tr>
              <th class="pick"><input type="checkbox" id="pick-all" aria-label={t("accounts.selectAll")} /></th>
              <th safe>{t("accounts.col.account")}</th><th safe>{t("accounts.col.auth")}</th><th safe>{t("accounts.col.state")}</th>
              <th safe>{t("accounts.col.plan")}</th><th safe>{t("accounts.col.credits")}</th><th safe>{t("accounts.col.expiry")}</th>
              <th safe>{t("accounts.col.used")}</th><th safe>{t("accounts.col.lastError")}</th>
            </tr>
          </thead>
          {props.rows.length
            ? props.rows.map((a) => <AccountRowView tr={tr} a={a} now={props.now} />)
            : <tbody><tr><td colspan={String(ACCOUNT_COLUMNS)} class="muted" safe>{props.all ? t("accounts.noMatch") : t("accounts.none")}</td></tr></tbody>}
        </table>
      </div>
      {props.pages > 1 ? (
        <nav class="pager">
          {query.page > 0 ? <a href={link(query.page - 1)} safe>{t("pager.previous")}</a> : ""}
          <span class="muted" safe>{t("pager.of", { page: query.page + 1, pages: props.pages })}</span>
          {query.page + 1 < props.pages ? <a href={link(query.page + 1)} safe>{t("pager.next")}</a> : ""}
        </nav>
      ) : ""}
    </div>
  );
}

function AddForms(props: { tr: Tr; oidcDefaultRegion: string }) {
  const t = props.tr.t;
  return (
    <div class="two">
      <DeviceLoginCard tr={props.tr} region={props.oidcDefaultRegion} />
      <details class="card" id="add">
        <summary safe>{t("accounts.add")}</summary>
        <p class="muted small" safe>{t("accounts.add.where")}</p>
        <form hx-post="/accounts" hx-target="#add-result" hx-swap="innerHTML" class="stack" id="add-form" data-reset-on-success="1">
          <label><span safe>{t("accounts.add.kind")}</span>
            <select name="kind">
              <option value="social" safe>{t("accounts.add.kindSocial")}</option>
              <option value="idc" safe>{t("accounts.add.kindIdc")}</option>
            </select>
          </label>
          <label><span safe>{t("accounts.add.refreshToken")}</span> <textarea name="refreshToken" rows="3" required></textarea></label>
          <label><span safe>{t("accounts.label")}</span> <input name="label" /></label>
          <fieldset class="idc" id="idc-fields">
            <legend safe>{t("accounts.add.idcOnly")}</legend>
            <label><span safe>{t("accounts.add.clientId")}</span> <input name="clientId" autocomplete="off" /></label>
            <label><span safe>{t("accounts.add.clientSecret")}</span> <input name="clientSecret" type="password" autocomplete="off" /></label>
            <label><span safe>{t("accounts.add.authRegion")}</span> <input name="authRegion" placeholder="us-east-1" /></label>
          </fieldset>
          <button type="submit" safe>{t("accounts.add.submit")}</button>
        </form>
        <div id="add-result"></div>
      </details>
      <details class="card" id="import">
        <summary safe>{t("accounts.import")}</summary>
        <p class="muted small" safe>{t("accounts.import.formats")}</p>
        <form hx-post="/accounts/import" hx-encoding="multipart/form-data" hx-target="#import-result" hx-swap="innerHTML" class="stack" id="import-form" data-reset-on-success="1">
          <label><span safe>{t("accounts.import.paste")}</span> <textarea name="text" rows="5"></textarea></label>
          <label><span safe>{t("accounts.import.file")}</span> <input type="file" name="file" accept=".json,application/json" /></label>
          <button type="submit" safe>{t("accounts.import.submit")}</button>
        </form>
        <div id="import-result"></div>
      </details>
    </div>
  );
}

/** Search, state filter and sort; every change reloads the table with the same values. */
function Filters(props: { tr: Tr; query: AccountQuery }) {
  const { tr, query } = props;
  const t = tr.t;
  return (
    <form id="account-filters" class="toolbar filters" hx-get="/accounts/table" hx-target="#accounts-table" hx-swap="outerHTML"
      hx-trigger="input changed delay:300ms from:#account-search, change, submit">
      <input type="search" id="account-search" name="q" value={query.q} placeholder={t("accounts.search")} aria-label={t("accounts.search")} autocomplete="off" />
      <select name="state" aria-label={t("accounts.filterState")}>
        {STATE_FILTERS.map((s) => <option value={s} selected={query.state === s} safe>{s === "all" ? t("accounts.allStates") : t(`state.${s}`)}</option>)}
      </select>
      <select name="sort" aria-label={t("accounts.sort")}>
        {ACCOUNT_SORTS.map((s) => <option value={s} selected={query.sort === s} safe>{t(`accounts.sort.${s}`)}</option>)}
      </select>
    </form>
  );
}

/** Actions on the ticked rows, or on every account; each runs as a job with progress. */
function BulkBar(props: { tr: Tr }) {
  const t = props.tr.t;
  const picked = { "hx-include": "#accounts-table input[name=ids]:checked", "hx-target": "#bulk-result" };
  return (
    <div class="toolbar bulk" id="bulk-bar">
      <span class="muted small" safe>{t("accounts.bulk.selected")}</span>
      <button type="button" class="small secondary" hx-post="/accounts/bulk/enable" {...picked} safe>{t("accounts.enable")}</button>
      <button type="button" class="small secondary" hx-post="/accounts/bulk/disable" {...picked} safe>{t("accounts.disable")}</button>
      <button type="button" class="small secondary" hx-post="/accounts/bulk/refresh" {...picked} safe>{t("accounts.refresh")}</button>
      <button type="button" class="small secondary" hx-post="/accounts/bulk/quota" {...picked} safe>{t("accounts.checkQuota")}</button>
      <button type="button" class="small danger" hx-post="/accounts/bulk/delete" {...picked} hx-confirm={t("accounts.bulk.deleteConfirm")} safe>{t("accounts.delete")}</button>
      <span class="spacer"></span>
      <button type="button" class="small secondary" hx-post="/accounts/refresh-all" hx-target="#bulk-result" safe>{t("accounts.refreshAll")}</button>
      <button type="button" class="small secondary" hx-post="/accounts/check-all" hx-target="#bulk-result" safe>{t("accounts.checkAll")}</button>
    </div>
  );
}

export function AccountsPage(props: { tr: Tr; csrf: string; version: string; region: string; rows: AccountView[]; total: number; all: number; query: AccountQuery; pages: number; now: number }) {
  const { tr } = props;
  return (
    <Page tr={tr} title={tr.t("nav.accounts")} csrf={props.csrf} active="/accounts" here={`/accounts?${queryString(props.query)}`} version={props.version}>
      <AddForms tr={tr} oidcDefaultRegion={props.region} />
      <Filters tr={tr} query={props.query} />
      <BulkBar tr={tr} />
      <div id="bulk-result"></div>
      <AccountsTable tr={tr} rows={props.rows} total={props.total} all={props.all} query={props.query} pages={props.pages} now={props.now} />
    </Page>
  );
}
