import { Page } from "../shared/layout";
import { StateBadge } from "../shared/components/badges";
import type { AccountView } from "../../pool/types";
import { ago, fmtNum } from "../shared/format";

export const ACCOUNTS_PER_PAGE = 100;

export const ACCOUNT_COLUMNS = 8;

/**
 * One account as its own <tbody>: the facts on the first row, the actions (and the note of the last
 * action) on a second, so the table fits a laptop width. Actions swap the whole tbody in place; on
 * a phone each tbody becomes a card (shared/assets/panel.css). Tokens never appear, only the fingerprint.
 */
export function AccountRowView(props: { a: AccountView; now: number; note?: string }) {
  const { a, now } = props;
  const q = a.quota;
  const base = `/accounts/${encodeURIComponent(a.id)}`;
  const act = (path: string, label: string) => (
    <button type="button" class="small" hx-post={`${base}/${path}`} hx-target="closest tbody" hx-swap="outerHTML" safe>{label}</button>
  );
  return (
    <tbody id={`acct-${a.id}`} data-account={a.id} class="acct">
      <tr>
        <td data-label="Account" class="who">
          <input class="label-edit" name="label" value={a.label} placeholder="label" aria-label="label"
            hx-post={`${base}/label`} hx-trigger="change" hx-target="closest tbody" hx-swap="outerHTML" />
          <div class="muted small" safe>{a.email ?? ""}</div>
          <code class="fp" title="refresh-token fingerprint" safe>{a.fingerprint}</code>
        </td>
        <td data-label="Auth">{a.kind === "idc" ? "IdC" : "Social"}</td>
        <td data-label="State" class="state-cell"><StateBadge state={a.state} reason={a.stateReason ?? null} until={a.stateUntil ?? null} now={now} /></td>
        <td data-label="Plan" safe>{q?.subscription ?? "—"}</td>
        <td data-label="Credits" class="nowrap">{q ? `${fmtNum(q.used)} / ${fmtNum(q.limit)}` : "—"}</td>
        <td data-label="Last used" class="nowrap" safe>{ago(a.lastUsedAt, now)}</td>
        <td data-label="Requests" class="num" safe>{fmtNum(a.requests)}</td>
        <td data-label="Errors" class="errs">
          <span safe>{fmtNum(a.errors)}</span>
          {a.lastError ? <small class="err-text" safe>{a.lastError}</small> : ""}
        </td>
      </tr>
      <tr class="acct-actions">
        <td colspan={String(ACCOUNT_COLUMNS)}>
          <div class="actions">
            {a.state === "disabled" ? act("enable", "Enable") : act("disable", "Disable")}
            {act("refresh", "Refresh token")}
            {act("quota", "Check quota")}
            <button type="button" class="small danger" hx-delete={base} hx-target="closest tbody" hx-swap="outerHTML"
              hx-confirm={`Delete account ${a.label || a.email || a.fingerprint}?`}>Delete</button>
            {props.note ? <small class="note" safe>{props.note}</small> : ""}
          </div>
        </td>
      </tr>
    </tbody>
  );
}

/** What a row action answers when its account went away meanwhile. */
export function GoneAccount() {
  return <tbody class="acct"><tr><td colspan={String(ACCOUNT_COLUMNS)} class="muted">Account no longer exists.</td></tr></tbody>;
}

export function AccountsTable(props: { rows: AccountView[]; total: number; page: number; now: number }) {
  const pages = Math.max(1, Math.ceil(props.total / ACCOUNTS_PER_PAGE));
  return (
    <div id="accounts-table" hx-get={`/accounts/table?page=${props.page}`} hx-trigger="accounts-changed from:body" hx-swap="outerHTML">
      <div class="scroll">
        <table class="grid accounts cards">
          <thead>
            <tr><th>Account</th><th>Auth</th><th>State</th><th>Plan</th><th>Credits</th><th>Last used</th><th class="num">Req</th><th>Err</th></tr>
          </thead>
          {props.rows.length
            ? props.rows.map((a) => <AccountRowView a={a} now={props.now} />)
            : <tbody><tr><td colspan={String(ACCOUNT_COLUMNS)} class="muted">No accounts yet. Add one or import a file above.</td></tr></tbody>}
        </table>
      </div>
      {pages > 1 ? (
        <nav class="pager">
          {props.page > 0 ? <a href={`/accounts?page=${props.page - 1}`}>← Previous</a> : ""}
          <span class="muted" safe>{`page ${props.page + 1} of ${pages} (${props.total} accounts)`}</span>
          {props.page + 1 < pages ? <a href={`/accounts?page=${props.page + 1}`}>Next →</a> : ""}
        </nav>
      ) : ""}
    </div>
  );
}

export function AccountsPage(props: { csrf: string; version: string; rows: AccountView[]; total: number; page: number; now: number }) {
  return (
    <Page title="Accounts" csrf={props.csrf} active="/accounts" version={props.version}>
      <div class="two">
        <details class="card">
          <summary>Add account</summary>
          <form hx-post="/accounts" hx-target="#add-result" hx-swap="innerHTML" class="stack" id="add-form" data-reset-on-success="1">
            <label>Sign-in kind
              <select name="kind">
                <option value="social">Social (Google / GitHub)</option>
                <option value="idc">IdC (Builder ID / Enterprise)</option>
              </select>
            </label>
            <label>Refresh token <textarea name="refreshToken" rows="3" required></textarea></label>
            <label>Label <input name="label" /></label>
            <fieldset class="idc" id="idc-fields">
              <legend>IdC only</legend>
              <label>Client id <input name="clientId" autocomplete="off" /></label>
              <label>Client secret <input name="clientSecret" type="password" autocomplete="off" /></label>
              <label>Auth region <input name="authRegion" placeholder="us-east-1" /></label>
            </fieldset>
            <button type="submit">Add</button>
          </form>
          <div id="add-result"></div>
        </details>
        <details class="card">
          <summary>Import accounts</summary>
          <p class="muted small">kiro2api JSON array, Kiro Account Manager export, or the Kiro IDE's kiro-auth-token.json.</p>
          <form hx-post="/accounts/import" hx-encoding="multipart/form-data" hx-target="#import-result" hx-swap="innerHTML" class="stack" id="import-form" data-reset-on-success="1">
            <label>Paste JSON <textarea name="text" rows="5"></textarea></label>
            <label>or upload a file <input type="file" name="file" accept=".json,application/json" /></label>
            <button type="submit">Import</button>
          </form>
          <div id="import-result"></div>
        </details>
      </div>
      <div class="toolbar">
        <button type="button" class="secondary" hx-post="/accounts/refresh-all" hx-target="#bulk-result">Refresh all tokens</button>
        <button type="button" class="secondary" hx-post="/accounts/check-all" hx-target="#bulk-result">Check all quotas</button>
      </div>
      <div id="bulk-result"></div>
      <AccountsTable rows={props.rows} total={props.total} page={props.page} now={props.now} />
    </Page>
  );
}
