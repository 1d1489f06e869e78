/**
 * `<thinking>…</thinking>` tag splitter for assistantResponseEvent text (docs/upstream.md, Thinking
 * in the stream; the rules of kiro.rs's `find_real_thinking_*`):
 *  - a start tag counts only at the start of the output (after at most LEADING_WS_LIMIT chars of
 *    whitespace); anything else first means "no thinking", and the text passes through untouched.
 *    A tag later in the answer (e.g. the model explaining the syntax) is therefore never eaten.
 *  - a single newline right after `<thinking>` is stripped.
 *  - `</thinking>` ends the block only when followed by "\n\n" (consumed), or by whitespace only at
 *    a boundary (tool-use start or end of stream). Otherwise it is thinking content (the model
 *    quoting the tag inside its own reasoning).
 *  - partial tags at chunk ends are held back until decidable.
 */
export type TagOutput = { kind: "text" | "thinking"; text: string };

const OPEN = "<thinking>";
const CLOSE = "</thinking>";
const LEADING_WS_LIMIT = 1024;

/** Length of the longest suffix of s that is a proper prefix of tag. */
function partialSuffix(s: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) {
    if (s.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}

export class ThinkingTagParser {
  private state: "start" | "thinking" | "text" = "start";
  private buf = "";
  private stripNewline = false;

  constructor(enabled = true) {
    if (!enabled) this.state = "text";
  }

  /** True once every later delta is plain text (tags off, or the answer began without one). */
  get passthrough(): boolean {
    return this.state === "text";
  }

  /** Feed a text delta; returns what can be emitted now (in order). */
  push(delta: string): TagOutput[] {
    if (this.state === "text") return delta ? [{ kind: "text", text: delta }] : [];
    this.buf += delta;
    return this.drain(false);
  }

  /** A boundary (tool call starts / stream ends): decide everything still buffered. */
  flush(): TagOutput[] {
    if (this.state === "text") return [];
    const out = this.drain(true);
    if (this.buf) {
      out.push({ kind: this.state === "thinking" ? "thinking" : "text", text: this.buf });
      this.buf = "";
    }
    // After a boundary the leading position is gone: later text is plain answer text.
    if (this.state === "start") this.state = "text";
    return out;
  }

  private drain(atBoundary: boolean): TagOutput[] {
    const out: TagOutput[] = [];
    if (this.state === "start") {
      const trimmed = this.buf.trimStart();
      const ws = this.buf.length - trimmed.length;
      if (trimmed.startsWith(OPEN)) {
        this.buf = trimmed.slice(OPEN.length);
        this.state = "thinking";
        this.stripNewline = true;
      } else if (!atBoundary && OPEN.startsWith(trimmed) && ws <= LEADING_WS_LIMIT) {
        return out; // still undecidable ("", "  ", "<thi")
      } else {
        this.state = "text";
        if (this.buf) out.push({ kind: "text", text: this.buf });
        this.buf = "";
        return out;
      }
    }
    if (this.state === "thinking") {
      if (this.stripNewline && this.buf.length > 0) {
        if (this.buf.startsWith("\n")) this.buf = this.buf.slice(1);
        this.stripNewline = false;
      }
      let searchFrom = 0;
      for (;;) {
        const i = this.buf.indexOf(CLOSE, searchFrom);
        if (i < 0) break;
        const after = this.buf.slice(i + CLOSE.length);
        if (after.startsWith("\n\n") || (atBoundary && after.trim() === "")) {
          if (i > 0) out.push({ kind: "thinking", text: this.buf.slice(0, i) });
          this.state = "text";
          const rest = after.startsWith("\n\n") ? after.slice(2) : "";
          this.buf = "";
          if (rest) out.push({ kind: "text", text: rest });
          return out;
        }
        // "\n" or "" after the tag could still become "\n\n": wait for more bytes.
        if (!atBoundary && "\n\n".startsWith(after)) {
          if (i > 0) out.push({ kind: "thinking", text: this.buf.slice(0, i) });
          this.buf = this.buf.slice(i);
          return out;
        }
        searchFrom = i + 1; // not a real end tag: keep it as thinking content
      }
      if (atBoundary) return out; // flush() emits the remainder
      const keep = partialSuffix(this.buf, CLOSE);
      const emit = this.buf.slice(0, this.buf.length - keep);
      if (emit) out.push({ kind: "thinking", text: emit });
      this.buf = this.buf.slice(this.buf.length - keep);
    }
    return out;
  }
}
