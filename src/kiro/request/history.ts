import { createHash } from "node:crypto";
import type {
  CanonicalMessage, ImagePart, TextPart, ThinkingPart, ToolResultPart, ToolUsePart,
} from "../../core/canonical";
import { MAX_IMAGES_PER_MESSAGE, toKiroImage } from "./images";
import type { ThinkingPlan } from "./thinking";
import type { ToolNameMap } from "./tool-names";
import type {
  KiroAssistantResponseMessage, KiroHistoryEntry, KiroImageBlock, KiroToolResult, KiroToolUse, KiroUserInputMessage,
} from "./types";

// "Rule N" below: the numbered building rules of docs/upstream.md (Request building rules).

/** Amazon Q Developer CLI's per-message and per-tool-result limits, "internal undocumented values from the service" (building rule 10). */
export const MAX_USER_MESSAGE_CHARS = 600_000;
export const MAX_TOOL_RESULT_CHARS = 800_000;
/** Size saver (AIClient-2-API's): images stay only in the last N history entries; older ones become a text note. */
export const KEEP_HISTORY_IMAGES = 5;
export const CANCELLED_RESULT = "Tool use was cancelled by the user";

type UserTurn = { role: "user"; texts: string[]; images: ImagePart[]; results: ToolResultPart[] };
type AssistantTurn = { role: "assistant"; texts: string[]; thinking: ThinkingPart[]; uses: ToolUsePart[] };
type Turn = UserTurn | AssistantTurn;

export type HistoryInput = {
  messages: CanonicalMessage[];
  /** System text for the leading pair (thinking tags already at its start); "" → no pair. */
  systemText: string;
  /** toolChoice "none": no tools are declared, so history tool calls are rendered as text (as the kiro-gateway proxy does). */
  textualTools: boolean;
  thinking: ThinkingPlan;
  names: ToolNameMap;
  modelId: string;
};
export type HistoryOutput = {
  history: KiroHistoryEntry[];
  current: KiroUserInputMessage;
  /** Upstream (short) names of every tool use left in history, for placeholder declarations. */
  historyToolNames: string[];
};

const blank = (s: string) => s.trim() === "";

export function truncateText(text: string, max: number, what: string): string {
  if (text.length <= max) return text;
  const marker = `\n[… ${what} truncated by kiro-server: ${text.length - max} characters removed …]`;
  return text.slice(0, max - marker.length) + marker;
}

function toolInputText(input: unknown): string {
  try {
    return typeof input === "string" ? input : JSON.stringify(input ?? {});
  } catch {
    return String(input);
  }
}

function resultText(content: Array<TextPart | ImagePart>): string {
  return (content ?? []).filter((c): c is TextPart => c?.type === "text").map((c) => c.text).join("\n");
}

/** Canonical messages → alternating turns (rule 1: adjacent same-role messages merged). */
function toTurns(messages: CanonicalMessage[], textualTools: boolean): Turn[] {
  const turns: Turn[] = [];
  for (const m of messages ?? []) {
    if (m?.role !== "user" && m?.role !== "assistant") continue;
    let last = turns[turns.length - 1];
    if (!last || last.role !== m.role) {
      last = m.role === "user"
        ? { role: "user", texts: [], images: [], results: [] }
        : { role: "assistant", texts: [], thinking: [], uses: [] };
      turns.push(last);
    }
    for (const p of (m.content ?? []) as Array<Record<string, any>>) {
      if (!p || typeof p !== "object") continue;
      if (last.role === "user") {
        if (p.type === "text" && typeof p.text === "string") last.texts.push(p.text);
        else if (p.type === "image") last.images.push(p as ImagePart);
        else if (p.type === "tool_result") {
          const r = p as ToolResultPart;
          if (textualTools) {
            last.texts.push(`[Result of tool call ${r.toolUseId}${r.isError ? " (error)" : ""}]\n${resultText(r.content)}`);
            for (const c of r.content ?? []) if (c?.type === "image") last.images.push(c);
          } else last.results.push(r);
        }
      } else {
        if (p.type === "text" && typeof p.text === "string") last.texts.push(p.text);
        else if (p.type === "thinking" && typeof p.text === "string") last.thinking.push(p as ThinkingPart);
        else if (p.type === "tool_use") {
          const u = p as ToolUsePart;
          if (textualTools) last.texts.push(`[Tool call ${u.name} (id ${u.id}) with input: ${toolInputText(u.input)}]`);
          else last.uses.push(u);
        }
      }
    }
  }
  return turns;
}

/** ToolUse.input must be a JSON object (SDK model). */
function toInputObject(input: unknown): Record<string, unknown> {
  let v = input;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return { input: v };
    }
  }
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) return { input: v };
  try {
    const copy = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
    delete copy[""]; // Empty-string keys are reported to be rejected upstream (AIClient-2-API removes them too)
    return copy;
  } catch {
    return {};
  }
}

function assistantEntry(t: AssistantTurn, plan: ThinkingPlan, names: ToolNameMap, usedNames: Set<string>): KiroAssistantResponseMessage {
  const uses: KiroToolUse[] = [];
  const ids = new Set<string>();
  for (const u of t.uses) {
    const id = typeof u.id === "string" && u.id !== "" ? u.id
      : `tooluse_${createHash("sha256").update(`${u.name}:${uses.length}:${toolInputText(u.input)}`).digest("hex").slice(0, 22)}`;
    if (ids.has(id)) continue; // a duplicated id could never be answered unambiguously
    ids.add(id);
    const name = names.toShort(String(u.name ?? ""));
    usedNames.add(name);
    uses.push({ toolUseId: id, name, input: toInputObject(u.input) });
  }
  const msg: KiroAssistantResponseMessage = { content: "" };
  let thinkingText = "";
  if (plan.form !== "none") {
    const parts = t.thinking.filter((p) => !blank(p.text));
    const signed = plan.form === "native" ? parts.find((p) => p.signature) : undefined;
    // Native: the signed block goes back as reasoningContent; everything else as <thinking> tags in the content (what kiro.rs and AIClient-2-API send).
    if (signed) msg.reasoningContent = { reasoningText: { text: signed.text, signature: signed.signature } };
    const rest = parts.filter((p) => p !== signed).map((p) => p.text).join("\n\n");
    if (rest) thinkingText = `<thinking>${rest}</thinking>`;
  }
  const text = t.texts.filter((x) => !blank(x)).join("\n\n");
  let content = [thinkingText, text].filter(Boolean).join("\n\n");
  // Rule 4: "" is fine next to tool uses (official); a bare empty answer gets "(empty)".
  if (blank(content)) content = uses.length > 0 ? "" : "(empty)";
  msg.content = content;
  if (uses.length > 0) msg.toolUses = uses;
  return msg;
}

function userEntry(t: UserTurn, prev: KiroAssistantResponseMessage | undefined, modelId?: string): KiroUserInputMessage {
  // Rule 5: results answer exactly the previous assistant's tool uses; orphans and duplicates dropped,
  // unanswered uses get the official synthetic "cancelled" error result.
  const wanted = (prev?.toolUses ?? []).map((u) => u.toolUseId);
  const byId = new Map<string, ToolResultPart>();
  for (const r of t.results) if (wanted.includes(r.toolUseId) && !byId.has(r.toolUseId)) byId.set(r.toolUseId, r);
  const images: ImagePart[] = [...t.images];
  const notes: string[] = [];
  const results: KiroToolResult[] = wanted.map((id) => {
    const r = byId.get(id);
    if (!r) return { toolUseId: id, content: [{ text: CANCELLED_RESULT }], status: "error" };
    const content: Array<{ text: string }> = [];
    for (const c of r.content ?? []) {
      if (c?.type === "text" && !blank(c.text)) content.push({ text: truncateText(c.text, MAX_TOOL_RESULT_CHARS, "tool result") });
      else if (c?.type === "image") {
        // Tool results carry text/json only; the image travels on the message instead.
        images.push(c);
        content.push({ text: "[image attached to the message]" });
      }
    }
    if (content.length === 0) content.push({ text: "(empty result)" });
    return { toolUseId: id, content, status: r.isError ? "error" : "success" };
  });

  const blocks: KiroImageBlock[] = [];
  for (const img of images) {
    const out = toKiroImage(img);
    if (!out.ok) notes.push(out.note);
    else if (blocks.length >= MAX_IMAGES_PER_MESSAGE) notes.push(`[image omitted: at most ${MAX_IMAGES_PER_MESSAGE} images per message]`);
    else blocks.push(out.block);
  }

  let content = [...t.texts.filter((x) => !blank(x)), ...notes].join("\n\n");
  content = truncateText(content, MAX_USER_MESSAGE_CHARS, "message");
  // Rule 4: tool-result turns carry "" (official); otherwise never empty.
  if (blank(content)) content = results.length > 0 ? "" : blocks.length > 0 ? "(image attached)" : "Continue";

  const msg: KiroUserInputMessage = { content, origin: "AI_EDITOR" };
  if (modelId) msg.modelId = modelId;
  if (blocks.length > 0) msg.images = blocks;
  if (results.length > 0) msg.userInputMessageContext = { toolResults: results };
  return msg;
}

export function buildHistory(input: HistoryInput): HistoryOutput {
  const turns = toTurns(input.messages, input.textualTools);
  // Rule 2: no prefill upstream — a trailing assistant goes to history and the user says "Continue".
  let current: UserTurn;
  const last = turns[turns.length - 1];
  if (last && last.role === "user") current = turns.pop() as UserTurn;
  else current = { role: "user", texts: ["Continue"], images: [], results: [] };

  const seq: Turn[] = [];
  if (!blank(input.systemText)) {
    // Rule 3: system text as the leading user entry + "Working..." (the official pinnedContext pair).
    seq.push({ role: "user", texts: [input.systemText], images: [], results: [] });
    if (turns[0]?.role !== "assistant") seq.push({ role: "assistant", texts: ["Working..."], thinking: [], uses: [] });
  } else if (turns[0]?.role === "assistant") {
    // Rule 1: history must start with a user entry.
    seq.push({ role: "user", texts: ["(conversation continues)"], images: [], results: [] });
  }
  seq.push(...turns);

  const history: KiroHistoryEntry[] = [];
  const usedNames = new Set<string>();
  let prev: KiroAssistantResponseMessage | undefined;
  for (let i = 0; i < seq.length; i++) {
    const t = seq[i];
    if (t.role === "user") {
      // The system entry is ours: never truncated here (the size budget reports it instead).
      const u = i === 0 && !blank(input.systemText)
        ? { content: input.systemText, origin: "AI_EDITOR" as const }
        : userEntry(t, prev);
      history.push({ userInputMessage: u });
      prev = undefined;
    } else {
      prev = assistantEntry(t, input.thinking, input.names, usedNames);
      history.push({ assistantResponseMessage: prev });
    }
  }
  // Alternation guarantees history (when non-empty) ends with an assistant entry here.
  const cur = userEntry(current, prev, input.modelId);

  // Older images are replaced by a note so long image conversations stay within size limits.
  for (let i = 0; i < history.length - KEEP_HISTORY_IMAGES; i++) {
    const e = history[i];
    if ("userInputMessage" in e && e.userInputMessage.images) {
      const n = e.userInputMessage.images.length;
      delete e.userInputMessage.images;
      const note = `[${n} image(s) from earlier in the conversation omitted]`;
      e.userInputMessage.content = e.userInputMessage.content ? `${e.userInputMessage.content}\n\n${note}` : note;
    }
  }
  return { history, current: cur, historyToolNames: [...usedNames] };
}
