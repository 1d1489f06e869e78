import { Page } from "../../../views/layouts/panel";
import { StatusBadge } from "../../../views/components/badges";
import { PAGE_SIZE, type RequestDetail, type RequestFilter, type RequestRow } from "../../logs/request-log";
import { Time } from "../../../views/components/time";
import type { Tr } from "../shared/i18n/tr";
import type { MessageKey } from "../shared/i18n";

/** Columns of the table; several instances (PostgreSQL) add the instance that served each request. */
const columns = (cluster: boolean) => (cluster ? 10 : 9);

function query(f: RequestFilter, before?: number): string {
  const p = new URLSearchParams();
  for (const k of ["status", "model", "account", "key", "dialect", "instance"] as const) if (f[k]) p.set(k, String(f[k]));
  if (before) p.set("before", String(before));
  return p.toString();
}

/**
 * Rows of the log. On a phone the table turns into cards (table.cards in panel.css): each cell
 * carries its column name, and the error message is a full-width line of its own, so a long
 * message wraps instead of stretching a narrow column.
 */
export function RequestRows(props: { tr: Tr; rows: RequestRow[]; filter: RequestFilter; now: number; cluster: boolean }) {
  const { tr } = props;
  const t = tr.t;
  const last = props.rows[props.rows.length - 1];
  return (
    <>
      {props.rows.map((r) => (
        <tr class={`click${r.errorMessage ? " has-error" : ""}`} hx-get={`/requests/${r.id}`} hx-target="#request-detail" hx-swap="innerHTML" data-request={r.requestId}>
          <td data-label={t("requests.col.time")} class="nowrap"><Time tr={tr} at={r.at} now={props.now} /></td>
          {props.cluster ? <td data-label={t("requests.col.instance")} class="instance" safe>{r.instanceId || "—"}</td> : ""}
          <td data-label={t("requests.col.key")} safe>{r.clientKeyName ?? "—"}</td>
          <td data-label={t("requests.col.dialect")} safe>{r.dialect}</td>
          <td data-label={t("requests.col.model")} class="model" safe>{r.model ?? "—"}</td>
          <td data-label={t("requests.col.account")} class="account" safe>{r.accountLabel || r.accountId || "—"}</td>
          <td data-label={t("requests.col.status")}><StatusBadge status={r.status} /></td>
          <td data-label={t("requests.col.latency")} class="num" safe>{`${tr.ms(r.latencyMs)} / ${tr.ms(r.ttftMs)}`}</td>
          <td data-label={t("requests.col.tokens")} class="num" safe>{`${tr.num(r.inputTokens)} / ${tr.num(r.outputTokens)}`}</td>
          <td class="err-text" safe>{r.errorMessage ?? ""}</td>
        </tr>
      ))}
      {last && props.rows.length === PAGE_SIZE ? (
        <tr class="more">
          <td colspan={String(columns(props.cluster))}>
            <button type="button" class="small" hx-get={`/requests/rows?${query(props.filter, last.id)}`} hx-target="closest tr" hx-swap="outerHTML" safe>{t("requests.older")}</button>
          </td>
        </tr>
      ) : ""}
    </>
  );
}

export function NoRequests(props: { tr: Tr; filtered: boolean; cluster: boolean }) {
  return <tr><td colspan={String(columns(props.cluster))} class="muted" safe>{props.tr.t(props.filtered ? "requests.noMatch" : "requests.none")}</td></tr>;
}

export function RequestDetailView(props: { tr: Tr; r: RequestDetail; bodiesLogged: boolean }) {
  const { r, tr } = props;
  const t = tr.t;
  const fields: Array<[MessageKey, string]> = [
    ["requests.f.id", r.requestId], ...(r.instanceId !== undefined ? [["requests.f.instance", r.instanceId || "—"] as [MessageKey, string]] : []),
    ["requests.f.key", r.clientKeyName ?? "—"],
    ["requests.f.dialect", r.dialect], ["requests.f.model", r.model ?? "—"], ["requests.f.account", r.accountLabel || r.accountId || "—"],
    ["requests.f.stream", t(r.stream ? "yes" : "no")], ["requests.f.status", String(r.status)], ["requests.f.attempts", String(r.attempts)],
    ["requests.f.latency", tr.ms(r.latencyMs)], ["requests.f.ttft", tr.ms(r.ttftMs)], ["requests.f.input", tr.int(r.inputTokens)],
    ["requests.f.output", tr.int(r.outputTokens)], ["requests.f.cached", tr.int(r.cachedTokens)], ["requests.f.credits", r.credits == null ? "—" : String(r.credits)],
    ["requests.f.stop", r.stopReason ?? "—"], ["requests.f.errorType", r.errorType ?? "—"], ["requests.f.error", r.errorMessage ?? "—"],
  ];
  return (
    <section class="card detail">
      <div class="detail-head">
        <h2 safe>{t("requests.details")}</h2>
        <button type="button" class="small secondary" data-close="request-detail" safe>{t("close")}</button>
      </div>
      <dl>
        <dt safe>{t("requests.f.time")}</dt><dd><Time tr={tr} at={r.at} kind="full" now={r.at} /></dd>
        {fields.map(([k, v]) => (<><dt safe>{t(k)}</dt><dd safe>{v}</dd></>))}
      </dl>
      {r.requestBody
        ? <details><summary safe>{t("requests.body")}</summary><pre safe>{r.requestBody}</pre></details>
        : <p class="muted small" safe>{t(props.bodiesLogged ? "requests.noBody" : "requests.bodiesOff")}</p>}
    </section>
  );
}

/** Names the filters suggest (the filters match any prefix, so these are a convenience). */
export type KnownValues = { models: string[]; accounts: string[]; keys: string[] };

function Suggestions(props: { id: string; values: string[] }) {
  return <datalist id={props.id}>{props.values.map((v) => <option value={v} />)}</datalist>;
}

export function RequestsPage(props: { tr: Tr; csrf: string; version: string; rows: RequestRow[]; filter: RequestFilter; now: number; known: KnownValues; cluster: boolean }) {
  const { tr } = props;
  const t = tr.t;
  const f = props.filter;
  return (
    <Page tr={tr} title={t("nav.requests")} csrf={props.csrf} active="/requests" here={`/requests?${query(f)}`} version={props.version}>
      <form class="toolbar filters" hx-get="/requests/rows" hx-target="#request-rows" hx-swap="innerHTML" hx-trigger="change, submit" hx-push-url="false">
        <select name="status" aria-label={t("requests.col.status")}>
          <option value="" selected={!f.status} safe>{t("requests.allStatuses")}</option>
          <option value="ok" selected={f.status === "ok"} safe>{t("requests.ok")}</option>
          <option value="error" selected={f.status === "error"} safe>{t("requests.errors")}</option>
        </select>
        <select name="dialect" aria-label={t("requests.col.dialect")}>
          <option value="" selected={!f.dialect} safe>{t("requests.allDialects")}</option>
          <option value="openai" selected={f.dialect === "openai"}>openai</option>
          <option value="anthropic" selected={f.dialect === "anthropic"}>anthropic</option>
        </select>
        <input name="model" placeholder={t("requests.col.model")} title={t("requests.prefixHint")} aria-label={t("requests.modelPrefix")} value={f.model ?? ""} list="known-models" autocomplete="off" />
        <input name="account" placeholder={t("requests.col.account")} title={t("requests.prefixHint")} aria-label={t("requests.accountPrefix")} value={f.account ?? ""} list="known-accounts" autocomplete="off" />
        <input name="key" placeholder={t("requests.col.key")} title={t("requests.prefixHint")} aria-label={t("requests.keyPrefix")} value={f.key ?? ""} list="known-keys" autocomplete="off" />
        {props.cluster
          ? <input name="instance" placeholder={t("requests.col.instance")} title={t("requests.prefixHint")} aria-label={t("requests.instancePrefix")} value={f.instance ?? ""} autocomplete="off" />
          : ""}
        <button type="submit" safe>{t("requests.filter")}</button>
        <a class="button secondary" href="/usage#export" safe>{t("requests.export")}</a>
        <Suggestions id="known-models" values={props.known.models} />
        <Suggestions id="known-accounts" values={props.known.accounts} />
        <Suggestions id="known-keys" values={props.known.keys} />
      </form>
      <div class="scroll">
        <table class="grid cards requests">
          <thead>
            <tr>
              <th safe>{t("requests.col.time")}</th>{props.cluster ? <th safe>{t("requests.col.instance")}</th> : ""}<th safe>{t("requests.col.key")}</th><th safe>{t("requests.col.dialect")}</th>
              <th safe>{t("requests.col.model")}</th><th safe>{t("requests.col.account")}</th><th safe>{t("requests.col.status")}</th>
              <th class="num" safe>{t("requests.col.latency")}</th><th class="num" safe>{t("requests.col.tokens")}</th><th safe>{t("requests.col.error")}</th>
            </tr>
          </thead>
          <tbody id="request-rows">
            {props.rows.length
              ? <RequestRows tr={tr} rows={props.rows} filter={f} now={props.now} cluster={props.cluster} />
              : <NoRequests tr={tr} filtered={false} cluster={props.cluster} />}
          </tbody>
        </table>
      </div>
      <div id="request-detail"></div>
    </Page>
  );
}
