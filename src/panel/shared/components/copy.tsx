import type { Tr } from "../i18n/tr";

/**
 * A value with a copy button (handled by panel.js; the value itself is escaped). Multi-line values
 * get the button in a bar above the block, so it never covers the first line.
 */
export function CopyField(props: { tr: Tr; id: string; value: string; label?: string; multiline?: boolean }) {
  const t = props.tr.t;
  const button = <button type="button" class="small" data-copy={props.id} data-copied={t("copy.done")} safe>{t("copy")}</button>;
  if (props.multiline) {
    return (
      <div class="copy multi">
        <div class="copy-bar">{props.label ? <span class="muted" safe>{props.label}</span> : <span></span>}{button}</div>
        <pre id={props.id} safe>{props.value}</pre>
      </div>
    );
  }
  return (
    <div class="copy">
      {props.label ? <span class="muted" safe>{props.label}</span> : ""}
      <code id={props.id} safe>{props.value}</code>
      {button}
    </div>
  );
}
