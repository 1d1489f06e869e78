import { agoParts, fmtInt, fmtMs, fmtNum, fmtTime, untilText } from "../format";
import { reasonOf } from "../../../pool/reasons";
import { type Locale, type MessageKey, type Params, translate } from "./index";

/**
 * One request's language: its messages and its number/date formats. Routes build it from the
 * request (`trFor`) and hand it to every view as the `tr` prop.
 */
export class Tr {
  constructor(readonly locale: Locale) {}

  /** The message for `key` in this language, placeholders filled. */
  t = (key: MessageKey, params?: Params): string => translate(this.locale, key, params);

  num = (n: number | null | undefined) => fmtNum(n, this.locale);
  int = (n: number | null | undefined) => fmtInt(n, this.locale);
  ms = (n: number | null | undefined) => fmtMs(n);
  time = (at: number | null | undefined, now: number) => fmtTime(at, now, this.locale);
  until = (at: number, now: number) => untilText(at, now, this.locale);

  /**
   * A text the server wrote (state reason, last error, import or job row): in this language when
   * it is one of the pool's reason codes (src/pool/reasons.ts), else as it is (an upstream's own
   * message is quoted, never translated). Quoted parameters are kept; an error class is named.
   */
  said = (text: string | null | undefined): string => {
    const r = reasonOf(text);
    if (!r) return text ?? "";
    const params: Params = { ...r.params };
    if (typeof params.cls === "string") params.cls = this.t(`errclass.${params.cls}` as MessageKey);
    return this.t(`reason.${r.code}`, params);
  };

  /** "5m ago" / "5 分钟前"; "never" when there is no time. */
  ago = (at: number | null | undefined, now: number): string => {
    if (!at) return this.t("time.never");
    const [unit, n] = agoParts(at, now);
    return this.t(`time.ago.${unit}`, { n });
  };
}

/** Tr objects hold no state, so one per language serves every request. */
const TRS: Readonly<Record<Locale, Tr>> = Object.freeze({ en: new Tr("en"), "zh-CN": new Tr("zh-CN") });
export const trOf = (locale: Locale): Tr => TRS[locale];
