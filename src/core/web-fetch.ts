/**
 * The web fetch server tool, independent of any wire format (see docs/web-search.md).
 *
 * The upstream offers web search through its MCP endpoint but no way to fetch a page, so
 * kiro-server cannot run this tool. A request that declares it is still served, as the
 * Messages API serves a server tool that is out of service: the model is offered the tool (an
 * ordinary function tool `web_fetch {url}`, like web search in model mode); each call it makes
 * is shown to the client as the server-tool call followed by an `unavailable` error result, and
 * the model reads, in the next round, that fetching is not available through this server so it
 * answers without it. No fetch is ever performed, so none is counted in the usage.
 *
 * The rounds are driven by src/core/web-search-loop.ts; this module only declares the tool,
 * reads the URL of a call and produces the events and the text the model reads.
 */
import type { CanonicalRequest, ServerToolRequest, ToolChoice, ToolDefinition, WebFetchEvent } from "./canonical";

export type { WebFetchErrorCode, WebFetchEvent } from "./canonical";

export type WebFetchPlan = { tool: ServerToolRequest; declaration: ToolDefinition };

export function webFetchTool(req: CanonicalRequest): ServerToolRequest | undefined {
  return req.serverTools?.find((t) => t.type === "web_fetch");
}

/** The function tool the model sees. */
export function webFetchDeclaration(tool: ServerToolRequest): ToolDefinition {
  return {
    name: tool.name,
    description: "Fetch the content of a web page or PDF document at a URL and return its text.",
    inputSchema: {
      type: "object",
      properties: { url: { type: "string", description: "The URL to fetch" } },
      required: ["url"],
    },
  };
}

/** How the request's web fetch tool is offered to the model, or undefined when it declares none. */
export function planWebFetch(req: CanonicalRequest): WebFetchPlan | undefined {
  const tool = webFetchTool(req);
  return tool ? { tool, declaration: webFetchDeclaration(tool) } : undefined;
}

/** The URL the model asked for ("" when its input has none). */
export function fetchUrl(input: unknown): string {
  const u = (input as { url?: unknown } | null)?.url;
  return typeof u === "string" ? u.trim() : "";
}

const UNAVAILABLE = "web fetch is not available through this server (its upstream offers no way to fetch a page)";

/** The two blocks of one call: the call as the model made it, then the `unavailable` error. */
export function fetchEvents(id: string, url: string): [WebFetchEvent, WebFetchEvent] {
  return [
    { type: "web_fetch_call", id, input: { url } },
    { type: "web_fetch_error", toolUseId: id, code: "unavailable", message: UNAVAILABLE },
  ];
}

/** The tool result the model reads after calling web fetch. */
export function fetchResultTextForModel(url: string, searchOffered: boolean): string {
  const page = url ? `The page ${url} was not fetched: ` : "Nothing was fetched: ";
  const instead = searchOffered ? " Use web search instead if it helps, or answer" : " Answer";
  return (
    `${page}${UNAVAILABLE}. Do not call web_fetch again.${instead} with what you already know, ` +
    "and tell the user when the answer needed the page's content."
  );
}

/**
 * The tool choice for the rounds after the model's first server-tool call: a choice that forces
 * a server tool (named, or "any" with no client tool) would make the model call one again in
 * every round, so those rounds go on with "auto". Other choices are kept.
 */
export function choiceAfterServerCall(choice: ToolChoice | undefined, req: CanonicalRequest, serverToolNames: readonly string[]): ToolChoice | undefined {
  if (choice?.type === "tool" && serverToolNames.includes(choice.name)) return { type: "auto" };
  if (choice?.type === "any" && !req.tools.some((t) => !serverToolNames.includes(t.name))) return { type: "auto" };
  return choice;
}
