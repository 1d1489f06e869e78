import type { ToolChoice, ToolDefinition } from "../../core/canonical";
import { invalidParam } from "./errors";

/**
 * Responses `tools` → canonical tools, and what the encoder must remember to map calls back:
 * - `function` → itself (`strict` ignored);
 * - `custom` (Codex's freeform `apply_patch`: raw text, a Lark grammar) → a JSON tool with one
 *   string property `input`; the grammar goes into the description. Calls come back as
 *   `custom_tool_call` whose `input` is that string, unwrapped;
 * - `namespace` → its inner tools, flattened (calls carry the namespace back);
 * - `local_shell` → a function `local_shell` whose calls come back as `local_shell_call`;
 * - hosted tools the upstream cannot run (`web_search*`, `tool_search`, `file_search`, …) are
 *   dropped with a notice: every client tool is still declared, and a 400 would stop Codex.
 */
export type ToolMap = {
  defs: ToolDefinition[];
  /** Names of freeform tools (answered as custom_tool_call). */
  custom: Set<string>;
  /** Inner tool name → its namespace. */
  namespaces: Map<string, string>;
  localShell: boolean;
  dropped: string[];
};

export const LOCAL_SHELL = "local_shell";

const FREEFORM_SCHEMA = {
  type: "object",
  properties: { input: { type: "string", description: "The raw text input of this tool, exactly as the tool's format describes (not JSON-encoded)." } },
  required: ["input"],
  additionalProperties: false,
};

const LOCAL_SHELL_SCHEMA = {
  type: "object",
  properties: {
    command: { type: "array", items: { type: "string" }, description: "The command and its arguments (argv)." },
    workdir: { type: "string" },
    timeout_ms: { type: "integer" },
    env: { type: "object", additionalProperties: { type: "string" } },
  },
  required: ["command"],
};

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

export function decodeTools(tools: unknown[] | null | undefined): ToolMap {
  const map: ToolMap = { defs: [], custom: new Set(), namespaces: new Map(), localShell: false, dropped: [] };
  (tools ?? []).forEach((t, i) => addTool(map, t, `tools[${i}]`));
  return map;
}

function addTool(map: ToolMap, t: unknown, at: string, namespace?: string): void {
  if (!isObj(t)) throw invalidParam(at, `Invalid value for '${at}': each tool must be an object.`);
  const type = t.type;
  if (typeof type !== "string") throw invalidParam(`${at}.type`, `Missing required parameter: '${at}.type'.`);
  switch (type) {
    case "function": {
      const name = toolName(t, at);
      const params = t.parameters ?? { type: "object", properties: {} };
      if (!isObj(params)) throw invalidParam(`${at}.parameters`, `Invalid value for '${at}.parameters': expected a JSON Schema object.`);
      map.defs.push({ name, description: str(t.description), inputSchema: params });
      if (namespace) map.namespaces.set(name, namespace);
      return;
    }
    case "custom": {
      const name = toolName(t, at);
      map.defs.push({ name, description: freeformDescription(t), inputSchema: FREEFORM_SCHEMA });
      map.custom.add(name);
      if (namespace) map.namespaces.set(name, namespace);
      return;
    }
    case "namespace": {
      const ns = toolName(t, at);
      if (!Array.isArray(t.tools)) throw invalidParam(`${at}.tools`, `Invalid value for '${at}.tools': a namespace lists its tools in an array.`);
      t.tools.forEach((inner, j) => addTool(map, inner, `${at}.tools[${j}]`, ns));
      return;
    }
    case "local_shell":
      map.defs.push({ name: LOCAL_SHELL, description: "Runs a shell command on the user's machine and returns its output.", inputSchema: LOCAL_SHELL_SCHEMA });
      map.localShell = true;
      return;
    default:
      // Hosted tools (web_search, web_search_preview, tool_search, file_search, computer_use,
      // code_interpreter, image_generation, mcp) run on OpenAI's side; nothing here runs them.
      map.dropped.push(type);
  }
}

function toolName(t: Raw, at: string): string {
  const name = t.name;
  if (typeof name !== "string" || !name) throw invalidParam(`${at}.name`, `Missing required parameter: '${at}.name'.`);
  return name;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

function freeformDescription(t: Raw): string {
  const parts = [str(t.description)];
  const f = isObj(t.format) ? t.format : undefined;
  parts.push("This is a freeform tool: put the raw text in the `input` string, exactly as described, without wrapping it in JSON or Markdown.");
  if (f?.type === "grammar" && typeof f.definition === "string") {
    parts.push(`The text must match this ${typeof f.syntax === "string" ? f.syntax : ""} grammar:\n${f.definition}`);
  }
  return parts.filter(Boolean).join("\n\n");
}

/**
 * `tool_choice` → canonical. Dropped when no tool is declared (Codex's compaction request sends
 * `tools: []` with `tool_choice: "auto"`). `allowed_tools` narrows the declared set.
 */
export function decodeToolChoice(tc: unknown, map: ToolMap): ToolChoice | undefined {
  if (tc == null) return undefined;
  const names = new Set(map.defs.map((d) => d.name));
  let choice: ToolChoice | undefined;
  if (tc === "auto") choice = { type: "auto" };
  else if (tc === "none") choice = { type: "none" };
  else if (tc === "required") choice = { type: "any" };
  else if (isObj(tc) && (tc.type === "function" || tc.type === "custom")) {
    const name = tc.name;
    if (typeof name !== "string" || !names.has(name)) {
      throw invalidParam("tool_choice", `tool_choice names the tool '${String(name)}', which is not in tools.`);
    }
    choice = { type: "tool", name };
  } else if (isObj(tc) && tc.type === "allowed_tools") {
    const allowed = new Set(
      (Array.isArray(tc.tools) ? tc.tools : []).map((x) => (isObj(x) ? (typeof x.name === "string" ? x.name : x.type === "local_shell" ? LOCAL_SHELL : undefined) : undefined)).filter(Boolean),
    );
    map.defs = map.defs.filter((d) => allowed.has(d.name));
    choice = tc.mode === "required" ? { type: "any" } : { type: "auto" };
  } else if (isObj(tc) && typeof tc.type === "string") {
    // A hosted tool (web_search…) or an MCP server: not available here, so the model chooses.
    choice = { type: "auto" };
  } else {
    throw invalidParam("tool_choice", "Invalid value for 'tool_choice': expected \"auto\", \"none\", \"required\" or a tool object.");
  }
  return map.defs.length ? choice : undefined;
}
