/**
 * Reading a generateAssistantResponse body the way the fake's scripted models (web-answer.ts,
 * web-fetch.ts) do: a directive anywhere in the conversation's user messages, and what the
 * current message carries (tool results, declared tool names).
 */

/** Every user message's text, oldest first (history, then the current message). */
function userTexts(body: any): string[] {
  const cs = body?.conversationState ?? {};
  const out: string[] = [];
  for (const h of Array.isArray(cs.history) ? cs.history : []) {
    const c = h?.userInputMessage?.content;
    if (typeof c === "string") out.push(c);
  }
  const cur = cs.currentMessage?.userInputMessage?.content;
  if (typeof cur === "string") out.push(cur);
  return out;
}

/**
 * The rest of the line after the latest `directive` match (`/\[\[fake:NAME\]\][ \t]*([^\n]*)/`)
 * in any user message, trimmed; undefined when no user message has it.
 */
export function directiveArgument(body: any, directive: RegExp): string | undefined {
  let arg: string | undefined;
  for (const t of userTexts(body)) {
    const m = directive.exec(t);
    if (m) arg = m[1]!.trim();
  }
  return arg;
}

/** The current message's tool results and the names of the tools it declares. */
export function currentTurn(body: any): { results: any[]; toolNames: string[] } {
  const ctx = body?.conversationState?.currentMessage?.userInputMessage?.userInputMessageContext ?? {};
  return {
    results: Array.isArray(ctx.toolResults) ? ctx.toolResults : [],
    toolNames: (Array.isArray(ctx.tools) ? ctx.tools : []).map((t: any) => t?.toolSpecification?.name).filter(Boolean),
  };
}

/** The names of the tools the latest assistant message of the history called (what the current tool results answer). */
export function lastToolUseNames(body: any): string[] {
  const history = body?.conversationState?.history;
  if (!Array.isArray(history)) return [];
  for (let i = history.length - 1; i >= 0; i--) {
    const a = history[i]?.assistantResponseMessage;
    if (a) return (Array.isArray(a.toolUses) ? a.toolUses : []).map((u: any) => u?.name).filter((n: unknown): n is string => typeof n === "string");
  }
  return [];
}
