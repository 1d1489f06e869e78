/**
 * A scripted model for web search end to end (Claude Code's WebSearch tool): when any user
 * message of the conversation contains `[[fake:web_answer]] <query>`, the fake
 *  - without tool results in the current message: calls the declared tool `WebSearch` (or
 *    `web_search`) with `{query}`, the text after the directive on its line;
 *  - with tool results: answers with a text built from them — "Answer from the web search: "
 *    followed by every URL the results carry, in order — so a test can see that the results
 *    reached the model and came back in the answer;
 *  - when the search tool is deferred (Claude Code 2.1.3xx declares `ToolSearch` and names
 *    `WebSearch` only in a system message, without its schema): first calls `ToolSearch` with
 *    `{query: "select:WebSearch"}`, as a real model does, then, once that result is in, calls
 *    `WebSearch` as above.
 * Conversations without the directive are not affected (undefined: the usual scenario choice).
 */
import { currentTurn, directiveArgument, lastToolUseNames } from "./conversation";
import { textScenario, toolScenario, type Scenario } from "./scenarios";

const DIRECTIVE = /\[\[fake:web_answer\]\][ \t]*([^\n]*)/;
const SEARCH_TOOLS = ["WebSearch", "web_search"];
/** Claude Code's tool that loads a deferred tool's schema. */
const TOOL_SEARCH = "ToolSearch";

export function webAnswerScenario(body: any): Scenario | undefined {
  const arg = directiveArgument(body, DIRECTIVE);
  if (arg === undefined) return undefined;
  const query = arg || "kiro server";
  const { results, toolNames } = currentTurn(body);
  // The deferred tool's schema just came back from ToolSearch: now the search can be called.
  if (results.length && lastToolUseNames(body).includes(TOOL_SEARCH)) {
    return toolScenario([{ name: "WebSearch", input: { query } }], { text: "Searching the web." });
  }
  if (results.length) {
    const urls = [...new Set(JSON.stringify(results).match(/https?:\/\/[^\s"'\\),\]]+/g) ?? [])];
    return textScenario(`Answer from the web search: ${urls.join(" ")}`);
  }
  const tool = SEARCH_TOOLS.find((n) => toolNames.includes(n));
  if (!tool && toolNames.includes(TOOL_SEARCH)) {
    return toolScenario([{ name: TOOL_SEARCH, input: { query: "select:WebSearch" } }], { text: "Loading the web search tool." });
  }
  if (!tool) return textScenario("No web search tool was declared.");
  return toolScenario([{ name: tool, input: { query } }], { text: "Searching the web." });
}
