import { Page } from "../shared/layout";
import { CopyField } from "../shared/components/copy";
import type { ClientKey } from "../../keys/client-keys";
import type { KeyUsage } from "../shared/rolling";
import { Time } from "../shared/components/time";
import type { Tr } from "../shared/i18n/tr";

/**
 * Client keys. The numbers say what they count: requests and tokens of the last 24 hours (every
 * request, errors included, from the request log), tokens this calendar month (what the budget
 * counts), and answered requests since the key was made (requests that got an answer with usage).
 */
export function KeyRow(props: { tr: Tr; k: ClientKey; day?: KeyUsage; now: number }) {
  const { k, tr } = props;
  const t = tr.t;
  const month = new Date(props.now).toISOString().slice(0, 7);
  const used = k.budgetMonth === month ? k.tokensThisMonth : 0;
  const models: string[] = k.allowedModels ? JSON.parse(k.allowedModels) : [];
  const modelText: string = models.length ? models.join(", ") : t("keys.allModels");
  const status = k.revokedAt ? "revoked" : k.expiresAt && k.expiresAt <= props.now ? "expired" : "active";
  const day = props.day ?? { requests: 0, tokens: 0, errors: 0 };
  return (
    <tr id={`key-${k.id}`} data-key={k.id} class={status === "active" ? "" : "dim"}>
      <td data-label={t("keys.col.name")}><span safe>{k.name}</span>{k.builtin ? <span class="badge" safe>{t("keys.builtin")}</span> : ""}</td>
      <td data-label={t("keys.col.key")}><code safe>{`${k.keyPrefix}…`}</code></td>
      <td data-label={t("keys.col.models")} class="models" safe>{modelText}</td>
      <td data-label={t("keys.col.expires")} class="nowrap"><Time tr={tr} at={k.expiresAt} now={props.now} empty={t("keys.never")} /></td>
      <td data-label={t("keys.col.requests24")} class="num day-requests">
        <span safe>{tr.int(day.requests)}</span>{day.errors ? <small class="err-text" safe>{` ${t("keys.errorsN", { n: tr.int(day.errors) })}`}</small> : ""}
      </td>
      <td data-label={t("keys.col.tokens24")} class="num" safe>{tr.num(day.tokens)}</td>
      <td data-label={t("keys.col.tokensMonth")} class="num" safe>{k.monthlyTokenBudget != null ? `${tr.num(used)} / ${tr.num(k.monthlyTokenBudget)}` : tr.num(used)}</td>
      <td data-label={t("keys.col.answered")} class="num total-requests" safe>{tr.int(k.requests)}</td>
      <td data-label={t("keys.col.lastUsed")} safe>{tr.ago(k.lastUsedAt, props.now)}</td>
      <td data-label={t("keys.col.status")}><span class={`badge s-${status === "active" ? "active" : "disabled"}`} safe>{t(`keys.status.${status}`)}</span></td>
      <td class="row-actions">
        {status === "active" && !k.builtin
          ? <button type="button" class="small danger" hx-post={`/keys/${encodeURIComponent(k.id)}/revoke`} hx-target="closest tr" hx-swap="outerHTML" hx-confirm={t("keys.revokeConfirm", { name: k.name })} safe>{t("keys.revoke")}</button>
          : ""}
      </td>
    </tr>
  );
}

/** Names in an allow-list that no model answers to. */
export function ModelWarning(props: { tr: Tr; unknown: string[] }) {
  return (
    <div id="model-warning" role="status">
      {props.unknown.length ? <p class="warn-text small" safe>{props.tr.t("keys.unknownModels", { names: props.unknown.join(", ") })}</p> : ""}
    </div>
  );
}

export function NewKeyNotice(props: { tr: Tr; name: string; secret: string; unknown: string[] }) {
  const t = props.tr.t;
  return (
    <div class="card ok" id="new-key">
      <p><b safe>{t("keys.created", { name: props.name })}</b> <span safe>{t("keys.shownOnce")}</span></p>
      <CopyField tr={props.tr} id="new-key-value" value={props.secret} />
      {props.unknown.length ? <p class="warn-text small" id="new-key-warning" safe>{t("keys.unknownModels", { names: props.unknown.join(", ") })}</p> : ""}
    </div>
  );
}

export function KeysTable(props: { tr: Tr; keys: ClientKey[]; usage: Map<string, KeyUsage>; now: number }) {
  const t = props.tr.t;
  const th = (key: Parameters<typeof t>[0], hint?: Parameters<typeof t>[0], cls = "") => <th class={cls} title={hint ? t(hint) : undefined} safe>{t(key)}</th>;
  return (
    <div id="keys-table" hx-get="/keys/table" hx-trigger="keys-changed from:body" hx-swap="outerHTML" class="scroll">
      <table class="grid cards keys">
        <thead>
          <tr>
            {th("keys.col.name")}{th("keys.col.key")}{th("keys.col.models")}{th("keys.col.expires")}
            {th("keys.col.requests24", "keys.hint.requests24", "num")}{th("keys.col.tokens24", "keys.hint.tokens24", "num")}
            {th("keys.col.tokensMonth", "keys.hint.tokensMonth", "num")}{th("keys.col.answered", "keys.hint.answered", "num")}
            {th("keys.col.lastUsed")}{th("keys.col.status")}<th></th>
          </tr>
        </thead>
        <tbody>
          {props.keys.map((k) => <KeyRow tr={props.tr} k={k} day={props.usage.get(k.id)} now={props.now} />)}
        </tbody>
      </table>
      <p class="muted small" safe>{t("keys.legend")}</p>
    </div>
  );
}

export function KeysPage(props: { tr: Tr; csrf: string; version: string; keys: ClientKey[]; usage: Map<string, KeyUsage>; now: number; modelNames: string[] }) {
  const t = props.tr.t;
  return (
    <Page tr={props.tr} title={t("keys.title")} csrf={props.csrf} active="/keys" version={props.version}>
      <details class="card" open>
        <summary safe>{t("keys.create")}</summary>
        <form hx-post="/keys" hx-target="#key-result" hx-swap="innerHTML" class="stack row-wide" id="key-form" data-reset-on-success="1">
          <label><span safe>{t("keys.f.name")}</span> <input name="name" required maxlength="80" /></label>
          <label><span safe>{t("keys.f.models")}</span> <input name="models" placeholder={t("keys.f.modelsHint")} list="model-names" autocomplete="off"
            hx-get="/keys/check-models" hx-trigger="input changed delay:400ms" hx-target="#model-warning" hx-swap="outerHTML" /></label>
          <label><span safe>{t("keys.f.expires")}</span> <input name="expires" type="date" /></label>
          <label><span safe>{t("keys.f.budget")}</span> <input name="budget" type="number" min="1" step="1" /></label>
          <button type="submit" safe>{t("keys.f.submit")}</button>
        </form>
        <datalist id="model-names">{props.modelNames.map((m) => <option value={m} />)}</datalist>
        <ModelWarning tr={props.tr} unknown={[]} />
        <div id="key-result"></div>
      </details>
      <KeysTable tr={props.tr} keys={props.keys} usage={props.usage} now={props.now} />
    </Page>
  );
}
