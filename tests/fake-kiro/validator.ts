/**
 * Strict validator of GenerateAssistantResponse bodies for the fake upstream. Written from
 * docs/upstream.md (The chat request body, and the building rules its "Rule N" comments name) and the SDK model
 * (@aws/codewhisperer-streaming-client 1.0.45: required members, enums), independently of
 * src/kiro/request so that a builder bug cannot hide behind a shared helper. The client-side
 * limits of Amazon's own clients (the Q language server, Amazon Q Developer CLI) are enforced
 * here too: the builder must stay inside them.
 */
export type ValidationResult = { ok: true } | { ok: false; message: string; reason?: string };
export type ValidatorOptions = {
  /** Body budget in characters without image bytes; default: model context window × 3.5 (the official client's budget). */
  maxInputChars?: number;
};

const CHAT_TRIGGER_TYPES = ["MANUAL", "DIAGNOSTIC", "INLINE_CHAT"]; // enums.d.ts ChatTriggerType (no AUTO)
const AGENT_TASK_TYPES = ["vibe", "spectask"]; // enums.d.ts AgentTaskType
const ORIGINS = ["AI_EDITOR", "CHATBOT", "CLI", "CONSOLE", "DOCUMENTATION", "GITLAB", "IDE", "INLINE_CHAT",
  "KIRO_CLI", "KIRO_WEB", "MARKETING", "MD", "MD_CE", "MD_IDE", "MOBILE", "OPENSEARCH_DASHBOARD", "Q_DEV_BEXT",
  "SAGE_MAKER", "SERVICE_INTERNAL", "SM_AI_STUDIO_IDE"]; // enums.d.ts Origin
const IMAGE_FORMATS = ["png", "jpeg", "gif", "webp"]; // enums.d.ts ImageFormat
const TOOL_RESULT_STATUS = ["success", "error"]; // enums.d.ts ToolResultStatus

/** Upstream model ids (dotted, legacy, other live ids) → context window. */
const MODEL_WINDOWS: Record<string, number> = {
  "claude-sonnet-4.5": 200_000, "claude-sonnet-4": 200_000, "claude-haiku-4.5": 200_000,
  "claude-opus-4.5": 200_000, "claude-sonnet-4.6": 1_000_000, "claude-opus-4.6": 1_000_000,
  "claude-opus-4.7": 1_000_000, "claude-opus-4.8": 1_000_000, auto: 200_000,
  CLAUDE_SONNET_4_5_20250929_V1_0: 200_000, CLAUDE_SONNET_4_20250514_V1_0: 200_000,
  CLAUDE_3_7_SONNET_20250219_V1_0: 200_000,
  "deepseek-3.2": 200_000, "glm-5": 200_000, "minimax-m2.1": 200_000, "minimax-m2.5": 200_000, "qwen3-coder-next": 200_000,
};
/** Models whose additionalModelRequestFields schema has adaptive thinking (the native thinking form). */
const NATIVE_THINKING = ["claude-sonnet-4.6", "claude-opus-4.6", "claude-opus-4.7", "claude-opus-4.8"];

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/; // the official client's tool-name rule
const MAX_DESCRIPTION = 10_240; // the official client's description cut
const MAX_USER_CHARS = 600_000; // Amazon Q Developer CLI, per user message
const MAX_TOOL_RESULT_CHARS = 800_000; // Amazon Q Developer CLI, per tool response
const MAX_IMAGE_BYTES = 3.75 * 1024 * 1024; // the official client's image check
const MAX_IMAGES_PER_MESSAGE = 20; // the official client
const MAX_IMAGES_CURRENT = 10; // Amazon Q Developer CLI, per request
const PROFILE_ARN = /^arn:aws[a-z-]*:codewhisperer:[a-z0-9-]+:\d{12}:profile\/[A-Za-z0-9]+$/;

class Invalid extends Error {
  constructor(message: string, readonly reason: string = "REQUEST_BODY_INVALID") {
    super(message);
  }
}
const fail = (message: string, reason?: string): never => {
  throw new Invalid(message, reason);
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function obj(v: unknown, at: string): Obj {
  if (!isObj(v)) fail(`${at} must be an object`);
  return v as Obj;
}
/** Unknown members and explicit nulls are rejected (the SDK omits unset members). */
function keys(o: Obj, at: string, allowed: string[], required: string[] = []): void {
  for (const [k, v] of Object.entries(o)) {
    if (!allowed.includes(k)) fail(`${at}.${k} is not a known member`);
    if (v === null || v === undefined) fail(`${at}.${k} must be omitted rather than null`);
  }
  for (const r of required) if (!(r in o)) fail(`${at}.${r} is required`);
}
function str(v: unknown, at: string): string {
  if (typeof v !== "string") fail(`${at} must be a string`);
  return v as string;
}
function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) fail(`${at} must be an array`);
  return v as unknown[];
}
function oneOf(v: unknown, values: string[], at: string): void {
  if (typeof v !== "string" || !values.includes(v)) fail(`${at} must be one of ${values.join(", ")}`);
}

function b64(v: unknown, at: string): Uint8Array {
  const s = str(v, at);
  if (s.startsWith("data:")) fail(`${at} must be bare base64, not a data: URL`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) fail(`${at} is not valid base64`);
  return Uint8Array.from(Buffer.from(s, "base64"));
}

function sniff(b: Uint8Array): string | undefined {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return "gif";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45) return "webp";
  return undefined;
}

function checkImages(v: unknown, at: string, max: number): void {
  const images = arr(v, at);
  if (images.length > max) fail(`${at} has ${images.length} images; at most ${max}`, "IMAGE_COUNT_EXCEEDED");
  images.forEach((img, i) => {
    const o = obj(img, `${at}[${i}]`);
    keys(o, `${at}[${i}]`, ["format", "source"], ["format", "source"]);
    if (typeof o.format !== "string" || !IMAGE_FORMATS.includes(o.format)) fail(`${at}[${i}].format unsupported`, "IMAGE_FORMAT_UNSUPPORTED");
    const src = obj(o.source, `${at}[${i}].source`);
    keys(src, `${at}[${i}].source`, ["bytes"], ["bytes"]);
    const bytes = b64(src.bytes, `${at}[${i}].source.bytes`);
    if (bytes.length === 0) fail(`${at}[${i}] is empty`);
    if (bytes.length > MAX_IMAGE_BYTES) fail(`${at}[${i}] is ${bytes.length} bytes`, "IMAGE_SIZE_EXCEEDED");
    if (sniff(bytes) !== o.format) fail(`${at}[${i}] bytes are not ${o.format}`, "IMAGE_MIME_MISMATCH");
    // Header dimensions where they are trivial to read (png IHDR, gif logical screen).
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dim = o.format === "png" && bytes.length >= 24 ? [dv.getUint32(16), dv.getUint32(20)]
      : o.format === "gif" && bytes.length >= 10 ? [dv.getUint16(6, true), dv.getUint16(8, true)] : [0, 0];
    if (dim[0] > 8000 || dim[1] > 8000) fail(`${at}[${i}] is ${dim[0]}x${dim[1]} px`, "IMAGE_DIMENSION_EXCEEDED");
  });
}

function checkSchema(json: unknown, at: string): void {
  const s = obj(json, at);
  if (s.type !== "object") fail(`${at}.type must be "object"`, "TOOL_SCHEMA_INVALID");
  for (const k of ["$schema", "$id", "prefixItems"]) if (k in s) fail(`${at}.${k} is not accepted`, "TOOL_SCHEMA_INVALID");
  if ("properties" in s && !isObj(s.properties)) fail(`${at}.properties must be an object`, "TOOL_SCHEMA_INVALID");
  if ("required" in s) {
    const r = s.required;
    if (!Array.isArray(r) || r.length === 0 || !r.every((x) => typeof x === "string")) {
      fail(`${at}.required must be a non-empty array of strings`, "TOOL_SCHEMA_INVALID");
    }
  }
}

function checkTools(v: unknown, at: string): Set<string> {
  const names = new Set<string>();
  arr(v, at).forEach((t, i) => {
    const ti = `${at}[${i}]`;
    const o = obj(t, ti);
    keys(o, ti, ["toolSpecification"], ["toolSpecification"]);
    const spec = obj(o.toolSpecification, `${ti}.toolSpecification`);
    keys(spec, `${ti}.toolSpecification`, ["name", "description", "inputSchema"], ["name", "inputSchema"]);
    const name = str(spec.name, `${ti}.name`);
    if (!TOOL_NAME.test(name)) fail(`${ti}.name "${name}" must match [a-zA-Z0-9_-]{1,64}`);
    if (names.has(name.toLowerCase())) fail(`${ti}.name "${name}" is declared twice`, "TOOL_DUPLICATE");
    names.add(name.toLowerCase());
    if ("description" in spec) {
      const d = str(spec.description, `${ti}.description`);
      if (d.trim() === "" || d.length > MAX_DESCRIPTION) fail(`${ti}.description must be 1..${MAX_DESCRIPTION} characters (is ${d.length})`);
    }
    const schema = obj(spec.inputSchema, `${ti}.inputSchema`);
    keys(schema, `${ti}.inputSchema`, ["json"], ["json"]);
    checkSchema(schema.json, `${ti}.inputSchema.json`);
  });
  return names;
}

type Ctx = { toolUseNames: Set<string> };

/** Returns the toolUseIds the next user entry must answer. */
function checkAssistant(v: unknown, at: string, ctx: Ctx): string[] {
  const m = obj(v, at);
  keys(m, at, ["content", "messageId", "toolUses", "reasoningContent"], ["content"]);
  const content = str(m.content, `${at}.content`);
  const ids: string[] = [];
  if ("toolUses" in m) {
    arr(m.toolUses, `${at}.toolUses`).forEach((u, i) => {
      const ui = `${at}.toolUses[${i}]`;
      const o = obj(u, ui);
      keys(o, ui, ["toolUseId", "name", "input"], ["toolUseId", "name", "input"]);
      const id = str(o.toolUseId, `${ui}.toolUseId`);
      if (id === "") fail(`${ui}.toolUseId is empty`);
      if (ids.includes(id)) fail(`${ui}.toolUseId ${id} is repeated`, "TOOL_USE_RESULT_MISMATCH");
      ids.push(id);
      const name = str(o.name, `${ui}.name`);
      if (!TOOL_NAME.test(name)) fail(`${ui}.name "${name}" must match [a-zA-Z0-9_-]{1,64}`);
      ctx.toolUseNames.add(name.toLowerCase());
      if (!isObj(o.input)) fail(`${ui}.input must be a JSON object`);
    });
  }
  if ("reasoningContent" in m) {
    const r = obj(m.reasoningContent, `${at}.reasoningContent`);
    if (Object.keys(r).length !== 1) fail(`${at}.reasoningContent must have exactly one member`);
    if ("reasoningText" in r) {
      const t = obj(r.reasoningText, `${at}.reasoningContent.reasoningText`);
      keys(t, `${at}.reasoningContent.reasoningText`, ["text", "signature"], ["text"]);
      str(t.text, `${at}.reasoningContent.reasoningText.text`);
      if ("signature" in t) str(t.signature, `${at}.reasoningContent.reasoningText.signature`);
    } else if ("redactedContent" in r) b64(r.redactedContent, `${at}.reasoningContent.redactedContent`);
    else fail(`${at}.reasoningContent has an unknown member`);
  }
  // Rule 4: an empty answer is only accepted next to tool uses.
  if (content === "" && ids.length === 0) fail(`${at}.content is empty without tool uses`);
  return ids;
}

function checkUser(
  v: unknown, at: string, expected: string[], opts: { current: boolean; first: boolean },
): { tools?: Set<string>; modelId?: string } {
  const m = obj(v, at);
  keys(m, at, ["content", "userInputMessageContext", "userIntent", "origin", "images", "modelId"], ["content"]);
  const content = str(m.content, `${at}.content`);
  if (content.length > MAX_USER_CHARS) fail(`${at}.content is ${content.length} characters`, "CONTENT_LENGTH_EXCEEDS_THRESHOLD");
  if ("origin" in m) oneOf(m.origin, ORIGINS, `${at}.origin`);
  if ("modelId" in m) str(m.modelId, `${at}.modelId`);
  if ("images" in m) checkImages(m.images, `${at}.images`, opts.current ? MAX_IMAGES_CURRENT : MAX_IMAGES_PER_MESSAGE);
  let tools: Set<string> | undefined;
  const answered: string[] = [];
  if ("userInputMessageContext" in m) {
    const c = obj(m.userInputMessageContext, `${at}.userInputMessageContext`);
    keys(c, `${at}.userInputMessageContext`, ["editorState", "shellState", "gitState", "envState", "appStudioContext",
      "diagnostic", "consoleState", "userSettings", "additionalContext", "toolResults", "tools"]);
    if ("tools" in c) {
      // Rule 6: tools are declared on the current message only, never repeated in history.
      if (!opts.current) fail(`${at}.userInputMessageContext.tools must only appear on the current message`);
      tools = checkTools(c.tools, `${at}.userInputMessageContext.tools`);
    }
    if ("toolResults" in c) {
      arr(c.toolResults, `${at}.toolResults`).forEach((r, i) => {
        const ri = `${at}.toolResults[${i}]`;
        const o = obj(r, ri);
        keys(o, ri, ["toolUseId", "content", "status", "toolName"], ["toolUseId", "content"]);
        const id = str(o.toolUseId, `${ri}.toolUseId`);
        if (!expected.includes(id)) fail(`${ri} answers ${id}, which is not a tool use of the preceding assistant message`, "TOOL_USE_RESULT_MISMATCH");
        if (answered.includes(id)) fail(`${ri} answers ${id} twice`, "TOOL_USE_RESULT_MISMATCH");
        answered.push(id);
        if ("status" in o) oneOf(o.status, TOOL_RESULT_STATUS, `${ri}.status`);
        const blocks = arr(o.content, `${ri}.content`);
        if (blocks.length === 0) fail(`${ri}.content is empty`);
        blocks.forEach((b, j) => {
          const bo = obj(b, `${ri}.content[${j}]`);
          if (Object.keys(bo).length !== 1 || !("text" in bo || "json" in bo)) fail(`${ri}.content[${j}] must be {text} or {json}`);
          if ("text" in bo && str(bo.text, `${ri}.content[${j}].text`).length > MAX_TOOL_RESULT_CHARS) {
            fail(`${ri}.content[${j}].text is too long`, "CONTENT_LENGTH_EXCEEDS_THRESHOLD");
          }
        });
      });
    }
  }
  const missing = expected.filter((id) => !answered.includes(id));
  if (missing.length > 0) fail(`${at} does not answer tool use(s) ${missing.join(", ")}`, "TOOL_USE_RESULT_MISMATCH");
  if (content.trim() === "" && answered.length === 0) fail(`${at}.content is empty and the message carries no tool results`);
  if (opts.first && answered.length > 0) fail(`${at}: the first history message cannot carry tool results`);
  return { tools, modelId: typeof m.modelId === "string" ? m.modelId : undefined };
}

function chatMessage(v: unknown, at: string): ["user" | "assistant", unknown] {
  const o = obj(v, at);
  const k = Object.keys(o);
  if (k.length !== 1 || (k[0] !== "userInputMessage" && k[0] !== "assistantResponseMessage")) {
    fail(`${at} must have exactly one of userInputMessage / assistantResponseMessage`);
  }
  return [k[0] === "userInputMessage" ? "user" : "assistant", o[k[0]]];
}

function bodyChars(body: Obj): number {
  let images = 0;
  const count = (msg: unknown) => {
    const u = isObj(msg) && isObj(msg.userInputMessage) ? msg.userInputMessage : undefined;
    if (u && Array.isArray(u.images)) for (const img of u.images) images += String((img as any)?.source?.bytes ?? "").length;
  };
  const cs = body.conversationState as Obj;
  for (const h of (cs.history as unknown[]) ?? []) count(h);
  count(cs.currentMessage);
  return JSON.stringify(body).length - images;
}

function validate(body: unknown, opts: ValidatorOptions): void {
  const b = obj(body, "body");
  keys(b, "body", ["conversationState", "profileArn", "agentMode", "additionalModelRequestFields"], ["conversationState"]);
  if ("profileArn" in b && !PROFILE_ARN.test(str(b.profileArn, "profileArn"))) fail("profileArn is not a CodeWhisperer profile ARN");
  const cs = obj(b.conversationState, "conversationState");
  // workspaceId / customizationArn are never sent (the service has 403 reasons for them).
  keys(cs, "conversationState", ["conversationId", "history", "currentMessage", "chatTriggerType",
    "agentContinuationId", "agentTaskType"], ["currentMessage", "chatTriggerType"]);
  oneOf(cs.chatTriggerType, CHAT_TRIGGER_TYPES, "conversationState.chatTriggerType");
  if ("agentTaskType" in cs) oneOf(cs.agentTaskType, AGENT_TASK_TYPES, "conversationState.agentTaskType");
  if ("conversationId" in cs && str(cs.conversationId, "conversationId") === "") fail("conversationId is empty");
  if ("agentContinuationId" in cs) str(cs.agentContinuationId, "agentContinuationId");

  const ctx: Ctx = { toolUseNames: new Set() };
  const history = "history" in cs ? arr(cs.history, "conversationState.history") : [];
  let expected: string[] = [];
  history.forEach((entry, i) => {
    const at = `history[${i}]`;
    const [role, msg] = chatMessage(entry, at);
    // Rule 1: user first, then strict alternation.
    if (role !== (i % 2 === 0 ? "user" : "assistant")) fail(`${at} breaks user/assistant alternation`);
    if (role === "user") {
      checkUser(msg, `${at}.userInputMessage`, expected, { current: false, first: i === 0 });
      expected = [];
    } else {
      expected = checkAssistant(msg, `${at}.assistantResponseMessage`, ctx);
    }
  });
  if (history.length % 2 !== 0) fail("history must end with an assistant message");

  const [role, cur] = chatMessage(cs.currentMessage, "currentMessage");
  if (role !== "user") fail("currentMessage must be a userInputMessage");
  const { tools, modelId } = checkUser(cur, "currentMessage.userInputMessage", expected, { current: true, first: false });

  for (const name of ctx.toolUseNames) {
    if (!tools?.has(name)) fail(`tool "${name}" is used in history but not declared in the current message's tools`, "TOOL_CONFIG_MISSING");
  }
  if (modelId !== undefined && !(modelId in MODEL_WINDOWS)) fail(`unknown modelId ${modelId}`, "INVALID_MODEL_ID");

  if ("additionalModelRequestFields" in b) {
    const f = obj(b.additionalModelRequestFields, "additionalModelRequestFields");
    if (!modelId || !NATIVE_THINKING.includes(modelId)) fail(`additionalModelRequestFields are not accepted for model ${modelId ?? "(default)"}`);
    keys(f, "additionalModelRequestFields", ["thinking", "output_config"]);
    if ("thinking" in f) {
      const t = obj(f.thinking, "additionalModelRequestFields.thinking");
      keys(t, "additionalModelRequestFields.thinking", ["type"], ["type"]);
      oneOf(t.type, ["adaptive", "disabled"], "additionalModelRequestFields.thinking.type");
    }
    if ("output_config" in f) {
      const o = obj(f.output_config, "additionalModelRequestFields.output_config");
      keys(o, "additionalModelRequestFields.output_config", ["effort"], ["effort"]);
      oneOf(o.effort, ["low", "medium", "high", "max"], "additionalModelRequestFields.output_config.effort");
    }
  }

  const limit = opts.maxInputChars ?? Math.floor((MODEL_WINDOWS[modelId ?? "auto"] ?? 200_000) * 3.5);
  if (limit > 0 && Number.isFinite(limit)) {
    const chars = bodyChars(b);
    if (chars > limit) fail(`Input is too long. (${chars} > ${limit} characters)`, "CONTENT_LENGTH_EXCEEDS_THRESHOLD");
  }
}

export function validateGenerateAssistantRequest(body: unknown, opts: ValidatorOptions = {}): ValidationResult {
  try {
    validate(body, opts);
    return { ok: true };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, message: e.message, reason: e.reason };
    return { ok: false, message: `validator could not read the body: ${(e as Error).message}`, reason: "REQUEST_BODY_INVALID" };
  }
}
