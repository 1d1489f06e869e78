import type { ToolDefinition } from "../../core/canonical";
import { cleanToolSchema } from "./schema";
import type { ToolNameMap } from "./tool-names";
import type { KiroToolSpec } from "./types";

/** The official client (Amazon's Q language server) cuts tool descriptions to 10,240 chars. */
export const MAX_TOOL_DESCRIPTION = 10_240;
export const PLACEHOLDER_DESCRIPTION = "Placeholder for a tool used earlier in this conversation.";

export type DeclaredTools = {
  specs: KiroToolSpec[];
  /** Full texts of overlong descriptions, to be appended to the system text (as the kiro-gateway proxy does). */
  systemNotes: string[];
};

/** Specs for the client's tools (deduplicated by upstream name), declared on the current message only. */
export function declareTools(tools: ToolDefinition[], names: ToolNameMap): DeclaredTools {
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
  return { specs, systemNotes };
}

/**
 * A placeholder spec for every upstream name used in history but not declared (building rule 6 of docs/upstream.md: the service
 * answers TOOL_CONFIG_MISSING otherwise; names match case-insensitively, like the service).
 */
export function placeholderTools(declared: KiroToolSpec[], historyNames: Iterable<string>): KiroToolSpec[] {
  const seen = new Set(declared.map((s) => s.toolSpecification.name.toLowerCase()));
  const specs: KiroToolSpec[] = [];
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
  return specs;
}
