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
import { currentTurn, directiveArgument } from "./conversation";
import { textScenario, toolScenario, type Scenario } from "./scenarios";

const DIRECTIVE = /\[\[fake:web_answer\]\][ \t]*([^\n]*)/;
const SEARCH_TOOLS = ["WebSearch", "web_search"];

export function webAnswerScenario(body: any): Scenario | undefined {
  const arg = directiveArgument(body, DIRECTIVE);
  if (arg === undefined) return undefined;
  const query = arg || "kiro server";
  const { results, toolNames } = currentTurn(body);
  if (results.length) {
    const urls = [...new Set(JSON.stringify(results).match(/https?:\/\/[^\s"'\\),\]]+/g) ?? [])];
    return textScenario(`Answer from the web search: ${urls.join(" ")}`);
  }
  const tool = SEARCH_TOOLS.find((n) => toolNames.includes(n));
  if (!tool) return textScenario("No web search tool was declared.");
  return toolScenario([{ name: tool, input: { query } }], { text: "Searching the web." });
}
