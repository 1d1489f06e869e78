/**
 * A scripted model for web search end to end (Claude Code's WebSearch tool): when any user
 * message of the conversation contains `[[fake:web_answer]] <query>`, the fake
 *  - without tool results in the current message: calls the declared tool `WebSearch` (or
 *    `web_search`) with `{query}`, the text after the directive on its line;
 *  - with tool results: answers with a text built from them — "Answer from the web search: "
 *    followed by every URL the results carry, in order — so a test can see that the results
 *    reached the model and came back in the answer.
 * Conversations without the directive are not affected (undefined: the usual scenario choice).
 */
import { textScenario, toolScenario, type Scenario } from "./scenarios";

const DIRECTIVE = /\[\[fake:web_answer\]\][ \t]*([^\n]*)/;
const SEARCH_TOOLS = ["WebSearch", "web_search"];

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

export function webAnswerScenario(body: any): Scenario | undefined {
  let query: string | undefined;
  for (const t of userTexts(body)) {
    const m = DIRECTIVE.exec(t);
    if (m) query = m[1]!.trim() || "kiro server";
  }
  if (query === undefined) return undefined;
  const ctx = body?.conversationState?.currentMessage?.userInputMessage?.userInputMessageContext ?? {};
  const results: unknown[] = Array.isArray(ctx.toolResults) ? ctx.toolResults : [];
  if (results.length) {
    const urls = [...new Set(JSON.stringify(results).match(/https?:\/\/[^\s"'\\),\]]+/g) ?? [])];
    return textScenario(`Answer from the web search: ${urls.join(" ")}`);
  }
  const names: string[] = (Array.isArray(ctx.tools) ? ctx.tools : []).map((t: any) => t?.toolSpecification?.name).filter(Boolean);
  const tool = SEARCH_TOOLS.find((n) => names.includes(n));
  if (!tool) return textScenario("No web search tool was declared.");
  return toolScenario([{ name: tool, input: { query } }], { text: "Searching the web." });
}
