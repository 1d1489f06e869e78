/**
 * `tools` and `tool_choice` of a Messages request → the canonical client tools, server tools
 * (web search, served by kiro-server: ./web-search.ts; web fetch, answered with an `unavailable`
 * tool error: ./web-fetch.ts), tool choice and parallel-call setting.
 * Every refusal is a 400 naming the field.
 */
import type { ServerToolRequest, ToolChoice, ToolDefinition } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import { decodeWebFetchTool, isWebFetchToolType } from "./web-fetch";
import { decodeWebSearchTool, isWebSearchToolType } from "./web-search";

/** One `tools[]` entry as the request schema lets it through (unknown keys kept). */
export type ToolEntry = { type?: string; name: string; description?: string; input_schema?: Record<string, unknown>; [k: string]: unknown };
export type ToolChoiceEntry = { type: "auto" | "any" | "tool" | "none"; name?: string; disable_parallel_tool_use?: boolean };

export type DecodedTools = {
  tools: ToolDefinition[];
  serverTools: ServerToolRequest[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
};

export function decodeTools(entries: readonly ToolEntry[], tc: ToolChoiceEntry | undefined): DecodedTools {
  const serverTools: ServerToolRequest[] = [];
  const tools: ToolDefinition[] = [];
  entries.forEach((t, i) => {
    // Web search runs here, through the account's Kiro MCP endpoint (docs/web-search.md).
    if (isWebSearchToolType(t.type)) {
      serverTools.push(decodeWebSearchTool(t, i));
      return;
    }
    // Web fetch is declared to the model; its calls end in an `unavailable` tool error (no upstream fetch).
    if (isWebFetchToolType(t.type)) {
      serverTools.push(decodeWebFetchTool(t, i));
      return;
    }
    if (t.type && t.type !== "custom") {
      throw new TurnError(
        "invalid_request",
        `tools.${i}: server tool '${t.type}' (${t.name}) is not supported by this server; only client tools with an input_schema can be used`,
        { param: `tools.${i}.type` },
      );
    }
    if (!t.input_schema) throw new TurnError("invalid_request", `tools.${i}.input_schema: Field required`, { param: `tools.${i}.input_schema` });
    tools.push({ name: t.name, description: t.description ?? "", inputSchema: t.input_schema });
  });
  const clash = tools.find((t) => serverTools.some((st) => st.name === t.name));
  if (clash) throw new TurnError("invalid_request", `tools: tool names must be unique; '${clash.name}' is both a client tool and a server tool`, { param: "tools" });

  let toolChoice: ToolChoice | undefined;
  let parallelToolCalls: boolean | undefined;
  if (tc) {
    if (tc.type === "tool") {
      if (!tc.name) throw new TurnError("invalid_request", "tool_choice.name: Field required for type 'tool'", { param: "tool_choice.name" });
      if (!tools.some((t) => t.name === tc.name) && !serverTools.some((t) => t.name === tc.name)) {
        throw new TurnError("invalid_request", `tool_choice.name: no tool named '${tc.name}' in tools`, { param: "tool_choice.name" });
      }
      toolChoice = { type: "tool", name: tc.name };
    } else toolChoice = { type: tc.type };
    if (tc.disable_parallel_tool_use) parallelToolCalls = false;
  }
  return { tools, serverTools, ...(toolChoice ? { toolChoice } : {}), ...(parallelToolCalls !== undefined ? { parallelToolCalls } : {}) };
}
