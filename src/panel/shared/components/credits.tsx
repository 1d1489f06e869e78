import type { AccountView } from "../../../pool/types";
import type { Tr } from "../i18n/tr";
import { Time } from "./time";

/** Share of the limit at which a credits bar turns to a warning. */
export const WARN_AT = 0.9;

/** Credits of the whole pool, from each account's last quota check. */
export type PoolCredits = { used: number; limit: number; remaining: number; known: number; unknown: number; nextReset?: number; lastReset?: number };

export function poolCredits(accounts: AccountView[]): PoolCredits {
  const c: PoolCredits = { used: 0, limit: 0, remaining: 0, known: 0, unknown: 0 };
  for (const a of accounts) {
    if (a.state === "disabled") continue;
    const q = a.quota;
    if (!q) { c.unknown++; continue; }
    c.known++;
    c.used += q.used;
    c.limit += q.limit;
    c.remaining += q.remaining;
    if (q.resetAt) {
      c.nextReset = Math.min(c.nextReset ?? Infinity, q.resetAt);
      c.lastReset = Math.max(c.lastReset ?? 0, q.resetAt);
    }
  }
  return c;
}

/** A used-of-limit bar; amber from WARN_AT of the limit, red when nothing is left. */
export function CreditsBar(props: { tr: Tr; used: number; limit: number }) {
  const { tr, used, limit } = props;
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  const level = limit > 0 && used >= limit ? "bad" : share >= WARN_AT ? "warn" : "ok";
  const text = tr.t("credits.usedOf", { used: tr.num(used), limit: tr.num(limit) });
  return (
    <div class={`meter m-${level}`} data-level={level} title={text}>
      <div class="meter-track"><div class="meter-fill" style={`width:${(share * 100).toFixed(1)}%`}></div></div>
      <small class="meter-text" safe>{text}</small>
    </div>
  );
}

export function CreditsCard(props: { tr: Tr; credits: PoolCredits; now: number }) {
  const { tr, credits: c } = props;
  const t = tr.t;
  return (
    <section class="card credits" id="pool-credits">
      <h2 safe>{t("credits.pool")}</h2>
      {c.known ? (
        <>
          <CreditsBar tr={tr} used={c.used} limit={c.limit} />
          <p class="muted small">
            <span safe>{t("credits.left", { n: tr.num(c.remaining) })}</span>
            {c.nextReset ? <>{" · "}<span safe>{t("credits.nextReset")}</span> <Time tr={tr} at={c.nextReset} kind="until" now={props.now} /></> : ""}
            {c.unknown ? <>{" · "}<span safe>{t("credits.unknown", { n: c.unknown })}</span></> : ""}
          </p>
        </>
      ) : <p class="muted" safe>{t("credits.none")}</p>}
    </section>
  );
}
