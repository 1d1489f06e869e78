import { Page } from "../shared/layout";
import { CopyField } from "../shared/components/copy";
import type { ClientKey } from "../../keys/client-keys";
import type { KeyUsage } from "../shared/rolling";
import { ago, fmtNum } from "../shared/format";
import { Time } from "../shared/components/time";

export function KeyRow(props: { k: ClientKey; day?: KeyUsage; now: number }) {
  const k = props.k;
  const month = new Date(props.now).toISOString().slice(0, 7);
  const used = k.budgetMonth === month ? k.tokensThisMonth : 0;
  const models: string[] = k.allowedModels ? JSON.parse(k.allowedModels) : [];
  const modelText: string = models.length ? models.join(", ") : "all models";
  const status = k.revokedAt ? "revoked" : k.expiresAt && k.expiresAt <= props.now ? "expired" : "active";
  return (
    <tr id={`key-${k.id}`} data-key={k.id} class={status === "active" ? "" : "dim"}>
      <td data-label="Name"><span safe>{k.name}</span>{k.builtin ? <span class="badge">built-in</span> : ""}</td>
      <td data-label="Key"><code safe>{`${k.keyPrefix}…`}</code></td>
      <td data-label="Models" safe>{modelText}</td>
      <td data-label="Expires" class="nowrap"><Time at={k.expiresAt} now={props.now} empty="never" /></td>
      <td data-label="Tokens this month" class="num" safe>{k.monthlyTokenBudget != null ? `${fmtNum(used)} / ${fmtNum(k.monthlyTokenBudget)}` : fmtNum(used)}</td>
      <td data-label="Last 24 h" class="num" safe>{`${fmtNum(props.day?.requests ?? 0)} req · ${fmtNum(props.day?.tokens ?? 0)} tok`}</td>
      <td data-label="Requests" class="num" safe>{fmtNum(k.requests)}</td>
      <td data-label="Last used" safe>{ago(k.lastUsedAt, props.now)}</td>
      <td data-label="Status"><span class={`badge s-${status === "active" ? "active" : "disabled"}`}>{status}</span></td>
      <td class="row-actions">
        {status === "active" && !k.builtin
          ? <button type="button" class="small danger" hx-post={`/keys/${encodeURIComponent(k.id)}/revoke`} hx-target="closest tr" hx-swap="outerHTML" hx-confirm={`Revoke key ${k.name}?`}>Revoke</button>
          : ""}
      </td>
    </tr>
  );
}

export function NewKeyNotice(props: { name: string; secret: string }) {
  return (
    <div class="card ok" id="new-key">
      <p><b safe>{`Key "${props.name}" created.`}</b> Copy it now — it is shown only once.</p>
      <CopyField id="new-key-value" value={props.secret} />
    </div>
  );
}

export function KeysTable(props: { keys: ClientKey[]; usage: Map<string, KeyUsage>; now: number }) {
  return (
    <div id="keys-table" hx-get="/keys/table" hx-trigger="keys-changed from:body" hx-swap="outerHTML" class="scroll">
      <table class="grid cards">
        <thead>
          <tr><th>Name</th><th>Key</th><th>Models</th><th>Expires</th><th>Tokens this month</th><th>Last 24 h</th><th>Requests</th><th>Last used</th><th>Status</th><th></th></tr>
        </thead>
        <tbody>
          {props.keys.map((k) => <KeyRow k={k} day={props.usage.get(k.id)} now={props.now} />)}
        </tbody>
      </table>
    </div>
  );
}

export function KeysPage(props: { csrf: string; version: string; keys: ClientKey[]; usage: Map<string, KeyUsage>; now: number }) {
  return (
    <Page title="Client keys" csrf={props.csrf} active="/keys" version={props.version}>
      <details class="card" open>
        <summary>Create a key</summary>
        <form hx-post="/keys" hx-target="#key-result" hx-swap="innerHTML" class="stack row-wide" id="key-form">
          <label>Name <input name="name" required maxlength="80" /></label>
          <label>Allowed models <input name="models" placeholder="empty = all; comma-separated" /></label>
          <label>Expires <input name="expires" type="date" /></label>
          <label>Monthly token budget <input name="budget" type="number" min="1" step="1" /></label>
          <button type="submit">Create key</button>
        </form>
        <div id="key-result"></div>
      </details>
      <KeysTable keys={props.keys} usage={props.usage} now={props.now} />
    </Page>
  );
}
