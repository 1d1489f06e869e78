/**
 * A scripted model for the web fetch server tool: when any user message of the conversation
 * contains `[[fake:web_fetch]] <url>`, the fake
 *  - without tool results in the current message: calls the declared tool `web_fetch` with
 *    `{url}` (the text after the directive on its line) and, when `web_search` is declared too,
 *    `web_search` with `{query: "<url> summary"}` in the same answer, after the text "Let me
 *    read that page.";
 *  - with tool results: answers "Answer without the page: " followed by the text of every tool
 *    result, in order, so a test can see what the model was told;
 *  - `[[fake:web_fetch]] again <url>`: a model that ignores what it was told and calls
 *    `web_fetch` in every answer.
 * Conversations without the directive are not affected (undefined: the usual scenario choice).
 */
import { currentTurn, directiveArgument } from "./conversation";
import { textScenario, toolScenario, type Scenario, type ToolCallSpec } from "./scenarios";

const DIRECTIVE = /\[\[fake:web_fetch\]\][ \t]*([^\n]*)/;

/** The texts of one upstream tool result (`content: [{text} | {json}]`). */
function resultText(r: any): string {
  const parts: any[] = Array.isArray(r?.content) ? r.content : [];
  return parts.map((p) => (typeof p?.text === "string" ? p.text : p?.json !== undefined ? JSON.stringify(p.json) : "")).join("");
}

export function webFetchScenario(body: any): Scenario | undefined {
  const line = directiveArgument(body, DIRECTIVE);
  if (line === undefined) return undefined;
  const again = line.startsWith("again ");
  const url = (again ? line.slice("again ".length).trim() : line) || "https://example.com/";
  const { results, toolNames: names } = currentTurn(body);
  if (results.length && !again) return textScenario(`Answer without the page: ${results.map(resultText).join(" | ")}`);
  if (!names.includes("web_fetch")) return textScenario("No web fetch tool was declared.");
  const calls: ToolCallSpec[] = [{ name: "web_fetch", input: { url } }];
  if (names.includes("web_search") && !again) calls.push({ name: "web_search", input: { query: `${url} summary` } });
  return toolScenario(calls, { text: again && results.length ? "Trying the page again." : "Let me read that page." });
}
