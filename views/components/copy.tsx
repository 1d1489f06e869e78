/** A value with a copy button (handled by panel.js; the value itself is escaped). */
export function CopyField(props: { id: string; value: string; label?: string; multiline?: boolean }) {
  return (
    <div class="copy">
      {props.label ? <span class="muted" safe>{props.label}</span> : ""}
      {props.multiline
        ? <pre id={props.id} safe>{props.value}</pre>
        : <code id={props.id} safe>{props.value}</code>}
      <button type="button" class="small" data-copy={props.id}>Copy</button>
    </div>
  );
}
