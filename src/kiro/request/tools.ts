import type { ToolDefinition } from "../../core/canonical.ts";
import { cleanToolSchema } from "./schema.ts";
import type { ToolNameMap } from "./tool-names.ts";
import type { KiroToolSpec } from "./types.ts";

/** LSP toolServer.js / mcpUtils.js cut descriptions to 10,240 chars (§4.3 rule 7). */
export const MAX_TOOL_DESCRIPTION = 10_240;
export const PLACEHOLDER_DESCRIPTION = "Placeholder for a tool used earlier in this conversation.";

export type DeclaredTools = {
  specs: KiroToolSpec[];
  /** Full texts of overlong descriptions, to be appended to the system text (JW's approach). */
  systemNotes: string[];
};

/**
 * Tool specs for the current message: the client's tools (deduplicated by upstream name) plus a
 * placeholder for every name referenced in history but not declared (rule 6, TOOL_CONFIG_MISSING;
 * case-insensitive like the service).
 */
export function declareTools(tools: ToolDefinition[], historyNames: Iterable<string>, names: ToolNameMap): DeclaredTools {
  const specs: KiroToolSpec[] = [];
  const systemNotes: string[] = [];
  const seen = new Set<string>();
  for (const t of tools) {
    const name = names.toShort(t.name);
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    let description = typeof t.description === "string" ? t.description.trim() : "";
    if (!description) description = `Tool: ${name}`;
    if (description.length > MAX_TOOL_DESCRIPTION) {
      systemNotes.push(`Full description of the tool "${name}":\n${description}`);
      const marker = `\n[Description truncated; the full text is in the system prompt under the tool "${name}".]`;
      description = description.slice(0, MAX_TOOL_DESCRIPTION - marker.length) + marker;
    }
    specs.push({ toolSpecification: { name, description, inputSchema: { json: cleanToolSchema(t.inputSchema) } } });
  }
  for (const short of historyNames) {
    if (seen.has(short.toLowerCase())) continue;
    seen.add(short.toLowerCase());
    specs.push({
      toolSpecification: {
        name: short,
        description: PLACEHOLDER_DESCRIPTION,
        inputSchema: { json: { type: "object", properties: {} } },
      },
    });
  }
  return { specs, systemNotes };
}
