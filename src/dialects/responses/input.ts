import type { AssistantPart, CanonicalMessage, ImageMediaType, ImagePart, TextPart, UserPart } from "../../core/canonical";
import { decodeReasoning } from "./ids";
import { invalidParam } from "./errors";
import { LOCAL_SHELL } from "./tools";

/**
 * Responses input items → system text + alternating canonical messages.
 *
 * Accepted as real clients send them: items without `type` (`{"role","content"}`), `content` as a
 * string, `id`/`status` on every item, `"content": null` on reasoning items. `system` and
 * `developer` messages become system text wherever they appear (Codex sends its whole prompt as
 * developer messages). Calls (`function_call`, `custom_tool_call`, `local_shell_call`) become the
 * assistant's tool_use keyed by `call_id`; their outputs the user's tool_result. Reasoning items
 * carrying our `encrypted_content` give the model back its thinking; other reasoning items, and
 * item types with no upstream meaning (web_search_call, tool_search_call/_output), are skipped
 * and reported through `skipped`.
 */
export type Item = Record<string, unknown>;

export type DecodedInput = { system: string[]; messages: CanonicalMessage[]; skipped: string[] };

const isObj = (v: unknown): v is Item => typeof v === "object" && v !== null && !Array.isArray(v);

const MEDIA: Record<string, ImageMediaType> = {
  "image/png": "image/png", "image/jpeg": "image/jpeg", "image/jpg": "image/jpeg", "image/gif": "image/gif", "image/webp": "image/webp",
};

/** `input` as a string is one user message. */
export function inputItems(input: unknown): Item[] {
  if (input == null) return [];
  if (typeof input === "string") return [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  return input as Item[];
}

export function decodeInput(items: Item[], paramOf: (i: number) => string): DecodedInput {
  const system: string[] = [];
  const out: CanonicalMessage[] = [];
  const skipped: string[] = [];
  const push = (m: CanonicalMessage) => {
    const last = out[out.length - 1];
    if (last && last.role === m.role) (last.content as Array<UserPart | AssistantPart>).push(...m.content);
    else out.push(m);
  };

  items.forEach((item, i) => {
    const at = paramOf(i);
    if (!isObj(item)) throw invalidParam(at, `Invalid value for '${at}': each input item must be an object.`);
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    switch (type) {
      case "message": {
        const role = item.role;
        if (role === "system" || role === "developer") {
          const t = textOf(item.content, `${at}.content`);
          if (t.trim()) system.push(t);
        } else if (role === "user") {
          const parts = userParts(item.content, `${at}.content`);
          if (parts.length) push({ role: "user", content: parts });
        } else if (role === "assistant") {
          const t = textOf(item.content, `${at}.content`);
          if (t) push({ role: "assistant", content: [{ type: "text", text: t }] });
        } else {
          throw invalidParam(`${at}.role`, `Invalid value for '${at}.role': expected one of user, assistant, system, developer.`);
        }
        return;
      }
      case "function_call": {
        const callId = requireString(item.call_id, `${at}.call_id`);
        push({ role: "assistant", content: [{ type: "tool_use", id: callId, name: requireString(item.name, `${at}.name`), input: parseArguments(item.arguments) }] });
        return;
      }
      case "custom_tool_call": {
        const callId = requireString(item.call_id, `${at}.call_id`);
        const input = typeof item.input === "string" ? item.input : "";
        push({ role: "assistant", content: [{ type: "tool_use", id: callId, name: requireString(item.name, `${at}.name`), input: { input } }] });
        return;
      }
      case "local_shell_call": {
        const callId = requireString(item.call_id ?? item.id, `${at}.call_id`);
        // Back into the shape of the local_shell tool declared upstream (tools.ts).
        const { type: _t, working_directory, ...action } = isObj(item.action) ? item.action : ({} as Item);
        if (working_directory !== undefined) action.workdir = working_directory;
        push({ role: "assistant", content: [{ type: "tool_use", id: callId, name: LOCAL_SHELL, input: action }] });
        return;
      }
      case "function_call_output":
      case "custom_tool_call_output":
      case "local_shell_call_output": {
        const callId = requireString(item.call_id ?? item.id, `${at}.call_id`);
        push({ role: "user", content: [{ type: "tool_result", toolUseId: callId, content: toolOutput(item.output, `${at}.output`) }] });
        return;
      }
      case "reasoning": {
        const r = decodeReasoning(item.encrypted_content);
        if (r && r.text) push({ role: "assistant", content: [{ type: "thinking", text: r.text, ...(r.signature ? { signature: r.signature } : {}) }] });
        else skipped.push("reasoning");
        return;
      }
      case "item_reference":
        throw invalidParam(`${at}.id`, `Item '${String(item.id)}' could not be resolved: only items of responses stored by this server (store: true) for this API key can be referenced.`);
      default:
        if (typeof type !== "string") throw invalidParam(`${at}.type`, `Missing required parameter: '${at}.type'.`);
        skipped.push(type);
    }
  });

  // Tool results first within a user turn (the upstream expects them right after the calls).
  for (const m of out) {
    if (m.role === "user") m.content.sort((a, b) => Number(b.type === "tool_result") - Number(a.type === "tool_result"));
  }
  return { system, messages: out, skipped };
}

function requireString(v: unknown, param: string): string {
  if (typeof v !== "string" || !v) throw invalidParam(param, `Missing required parameter: '${param}'.`);
  return v;
}

function parseArguments(args: unknown): unknown {
  if (isObj(args)) return args;
  if (typeof args !== "string" || args.trim() === "") return {};
  try {
    return JSON.parse(args);
  } catch {
    // A call cut by max_output_tokens gets replayed too: keep its text rather than fail.
    return { raw_arguments: args };
  }
}

/** Text of system/developer/assistant content: a string or text-like parts. */
function textOf(content: unknown, param: string): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalidParam(param, `Invalid value for '${param}': expected a string or an array of content parts.`);
  return content
    .map((p, j) => {
      if (!isObj(p)) throw invalidParam(`${param}[${j}]`, `Invalid value for '${param}[${j}]': expected a content part object.`);
      if ((p.type === "input_text" || p.type === "output_text" || p.type === "text") && typeof p.text === "string") return p.text;
      if (p.type === "refusal" && typeof p.refusal === "string") return p.refusal;
      throw invalidParam(`${param}[${j}].type`, `Invalid value for '${param}[${j}].type': '${String(p.type)}' is not allowed here; use input_text or output_text.`);
    })
    .join("\n");
}

function userParts(content: unknown, param: string): UserPart[] {
  if (content == null) return [];
  if (typeof content === "string") return content ? [{ type: "text", text: content }] : [];
  if (!Array.isArray(content)) throw invalidParam(param, `Invalid value for '${param}': expected a string or an array of content parts.`);
  return content.map((p, j) => contentPart(p, `${param}[${j}]`));
}

function toolOutput(output: unknown, param: string): Array<TextPart | ImagePart> {
  if (output == null) return [{ type: "text", text: "" }];
  if (typeof output === "string") return [{ type: "text", text: output }];
  if (!Array.isArray(output)) return [{ type: "text", text: JSON.stringify(output) }];
  return output.map((p, j) => contentPart(p, `${param}[${j}]`));
}

function contentPart(p: unknown, at: string): TextPart | ImagePart {
  if (!isObj(p)) throw invalidParam(at, `Invalid value for '${at}': expected a content part object.`);
  switch (p.type) {
    case "input_text":
    case "output_text":
    case "text":
      if (typeof p.text !== "string") throw invalidParam(`${at}.text`, `Missing required parameter: '${at}.text'.`);
      return { type: "text", text: p.text };
    case "input_image": {
      if (typeof p.file_id === "string" && p.image_url == null) throw invalidParam(`${at}.file_id`, "file_id references cannot be resolved: this server has no Files API. Send the image as a data URL in image_url.");
      const url = typeof p.image_url === "string" ? p.image_url : isObj(p.image_url) && typeof p.image_url.url === "string" ? p.image_url.url : undefined;
      if (!url) throw invalidParam(`${at}.image_url`, `Missing required parameter: '${at}.image_url'.`);
      return imageFromDataUrl(url, `${at}.image_url`);
    }
    case "input_file":
      return fileText(p, at);
    default:
      throw invalidParam(`${at}.type`, `Invalid value for '${at}.type': '${String(p.type)}'; expected input_text, input_image or input_file.`);
  }
}

function imageFromDataUrl(url: string, param: string): ImagePart {
  const data = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url.trim());
  if (!data) {
    throw invalidParam(param, /^https?:\/\//i.test(url)
      ? "Image URLs are not fetched by this server; send the image inline as a data URL (data:image/png;base64,...)."
      : "image_url must be a data:image/...;base64 URL.");
  }
  const media = MEDIA[data[1]!.toLowerCase()];
  if (!media) throw invalidParam(param, `Unsupported image type ${data[1]}; use image/png, image/jpeg, image/gif or image/webp.`);
  if (!/;base64/i.test(data[2]!)) throw invalidParam(param, "Image data URLs must be base64-encoded (data:image/png;base64,...).");
  return { type: "image", mediaType: media, data: data[3]!.replace(/\s+/g, "") };
}

/** Text files inline (`file_data`, base64 or a data URL) become text; others cannot be sent upstream. */
function fileText(p: Item, at: string): TextPart | ImagePart {
  if (typeof p.file_data !== "string") {
    throw invalidParam(`${at}.file_data`, "Only inline files (file_data) are supported: this server has no Files API and does not fetch file_url.");
  }
  const name = typeof p.filename === "string" ? p.filename : "file";
  const m = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(p.file_data);
  const mime = m ? m[1]!.toLowerCase() : "";
  if (MEDIA[mime]) return imageFromDataUrl(p.file_data, `${at}.file_data`);
  const base64 = m ? m[3]! : p.file_data;
  const bytes = Buffer.from(base64, "base64");
  const textual = mime.startsWith("text/") || /json|xml|yaml|csv|javascript|markdown/.test(mime) || (!mime && !bytes.includes(0));
  if (!textual) throw invalidParam(`${at}.file_data`, `The file '${name}' (${mime || "binary"}) cannot be sent to the model: only text files and images are supported.`);
  return { type: "text", text: `<file name="${name}">\n${bytes.toString("utf8")}\n</file>` };
}
