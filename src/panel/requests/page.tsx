import { Page } from "../shared/layout";
import { StatusBadge } from "../shared/components/badges";
import { PAGE_SIZE, type RequestDetail, type RequestFilter, type RequestRow } from "../../logs/request-log";
import { fmtMs, fmtNum } from "../shared/format";
import { Time } from "../shared/components/time";

function query(f: RequestFilter, before?: number): string {
  const p = new URLSearchParams();
  for (const k of ["status", "model", "account", "key", "dialect"] as const) if (f[k]) p.set(k, String(f[k]));
  if (before) p.set("before", String(before));
  return p.toString();
}

export function RequestRows(props: { rows: RequestRow[]; filter: RequestFilter; now: number }) {
  const last = props.rows[props.rows.length - 1];
  return (
    <>
      {props.rows.map((r) => (
        <tr class="click" hx-get={`/requests/${r.id}`} hx-target="#request-detail" hx-swap="innerHTML" data-request={r.requestId}>
          <td class="nowrap"><Time at={r.at} now={props.now} /></td>
          <td safe>{r.clientKeyName ?? "—"}</td>
          <td safe>{r.dialect}</td>
          <td class="nowrap" safe>{r.model ?? "—"}</td>
          <td safe>{r.accountLabel || r.accountId || "—"}</td>
          <td><StatusBadge status={r.status} /></td>
          <td class="num" safe>{fmtMs(r.latencyMs)}</td>
          <td class="num" safe>{fmtMs(r.ttftMs)}</td>
          <td class="num" safe>{`${fmtNum(r.inputTokens)} / ${fmtNum(r.outputTokens)}`}</td>
          <td class="err-text" safe>{r.errorMessage ?? ""}</td>
        </tr>
      ))}
      {last && props.rows.length === PAGE_SIZE ? (
        <tr class="more">
          <td colspan="10">
            <button type="button" class="small" hx-get={`/requests/rows?${query(props.filter, last.id)}`} hx-target="closest tr" hx-swap="outerHTML">Older requests</button>
          </td>
        </tr>
      ) : ""}
    </>
  );
}

export function RequestDetailView(props: { r: RequestDetail; bodiesLogged: boolean }) {
  const r = props.r;
  const fields: Array<[string, string]> = [
    ["Request id", r.requestId], ["Client key", r.clientKeyName ?? "—"],
    ["Dialect", r.dialect], ["Model", r.model ?? "—"], ["Account", r.accountLabel || r.accountId || "—"],
    ["Stream", r.stream ? "yes" : "no"], ["Status", String(r.status)], ["Attempts", String(r.attempts)],
    ["Latency", fmtMs(r.latencyMs)], ["First token", fmtMs(r.ttftMs)], ["Input tokens", fmtNum(r.inputTokens)],
    ["Output tokens", fmtNum(r.outputTokens)], ["Credits", r.credits == null ? "—" : String(r.credits)],
    ["Stop reason", r.stopReason ?? "—"], ["Error type", r.errorType ?? "—"], ["Error", r.errorMessage ?? "—"],
  ];
  return (
    <section class="card detail">
      <div class="detail-head">
        <h2>Request details</h2>
        <button type="button" class="small secondary" data-close="request-detail">Close</button>
      </div>
      <dl>
        <dt>Time</dt><dd><Time at={r.at} kind="full" now={r.at} /></dd>
        {fields.map(([k, v]) => (<><dt safe>{k}</dt><dd safe>{v}</dd></>))}
      </dl>
      {r.requestBody
        ? <details><summary>Request body</summary><pre safe>{r.requestBody}</pre></details>
        : <p class="muted small">{props.bodiesLogged ? "No body was stored for this request." : "Request bodies are not logged (Settings → log request bodies)."}</p>}
    </section>
  );
}

/** Names the filters suggest (the filters match any prefix, so these are a convenience). */
export type KnownValues = { models: string[]; accounts: string[]; keys: string[] };

function Suggestions(props: { id: string; values: string[] }) {
  return <datalist id={props.id}>{props.values.map((v) => <option value={v} />)}</datalist>;
}

export function RequestsPage(props: { csrf: string; version: string; rows: RequestRow[]; filter: RequestFilter; now: number; known: KnownValues }) {
  const f = props.filter;
  return (
    <Page title="Requests" csrf={props.csrf} active="/requests" version={props.version}>
      <form class="toolbar filters" hx-get="/requests/rows" hx-target="#request-rows" hx-swap="innerHTML" hx-trigger="change, submit" hx-push-url="false">
        <select name="status" aria-label="status">
          <option value="" selected={!f.status}>all statuses</option>
          <option value="ok" selected={f.status === "ok"}>ok</option>
          <option value="error" selected={f.status === "error"}>errors</option>
        </select>
        <select name="dialect" aria-label="dialect">
          <option value="" selected={!f.dialect}>all dialects</option>
          <option value="openai" selected={f.dialect === "openai"}>openai</option>
          <option value="anthropic" selected={f.dialect === "anthropic"}>anthropic</option>
        </select>
        <input name="model" placeholder="model" title="names starting with this" aria-label="model (prefix)" value={f.model ?? ""} list="known-models" autocomplete="off" />
        <input name="account" placeholder="account" title="labels starting with this" aria-label="account (prefix)" value={f.account ?? ""} list="known-accounts" autocomplete="off" />
        <input name="key" placeholder="client key" title="key names starting with this" aria-label="client key (prefix)" value={f.key ?? ""} list="known-keys" autocomplete="off" />
        <button type="submit">Filter</button>
        <Suggestions id="known-models" values={props.known.models} />
        <Suggestions id="known-accounts" values={props.known.accounts} />
        <Suggestions id="known-keys" values={props.known.keys} />
      </form>
      <div class="scroll">
        <table class="grid">
          <thead>
            <tr><th>Time</th><th>Key</th><th>Dialect</th><th>Model</th><th>Account</th><th>Status</th><th>Latency</th><th>TTFT</th><th>In / out</th><th>Error</th></tr>
          </thead>
          <tbody id="request-rows">
            {props.rows.length ? <RequestRows rows={props.rows} filter={f} now={props.now} /> : <tr><td colspan="10" class="muted">No requests yet.</td></tr>}
          </tbody>
        </table>
      </div>
      <div id="request-detail"></div>
    </Page>
  );
}
