/**
 * Content blocks of a Messages request → canonical parts: system blocks, user blocks (text,
 * image, document, search result, tool_result) and assistant blocks (text, thinking, tool_use,
 * earlier web search blocks as text). Unknown block types are dropped, never fatal.
 */
import type { AssistantPart, ImageMediaType, ImagePart, TextPart, UserPart } from "../../core/canonical";
import { bad } from "./field-errors";
import { serverBlockAsText } from "./web-search";

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

type Block = { type: string; [k: string]: unknown };

function str(v: unknown, param: string): string {
  if (typeof v !== "string") throw bad(param, "must be a string");
  return v;
}

export function systemBlockText(blk: Block, param: string): string {
  if (blk.type !== "text") throw bad(`${param}.type`, "system messages may only contain text blocks");
  return str(blk.text, `${param}.text`);
}

function imagePart(blk: Block, param: string): ImagePart {
  const src = blk.source as Record<string, unknown> | undefined;
  if (!src || typeof src !== "object") throw bad(`${param}.source`, "Field required");
  if (src.type !== "base64") {
    // URL and file images are rejected rather than fetched: fetching client-chosen URLs from the
    // server opens an SSRF hole (internal addresses, redirects, DNS rebinding) for little gain.
    throw bad(`${param}.source.type`, `image source '${String(src.type)}' is not supported; send the image as base64 (source.type "base64")`);
  }
  const mediaType = src.media_type;
  if (typeof mediaType !== "string" || !(IMAGE_TYPES as readonly string[]).includes(mediaType)) {
    throw bad(`${param}.source.media_type`, `must be one of ${IMAGE_TYPES.join(", ")}`);
  }
  const data = str(src.data, `${param}.source.data`);
  return { type: "image", mediaType: mediaType as ImageMediaType, data };
}

/** A document block as text: plain-text and content sources are supported; PDFs are not. */
function documentText(blk: Block, param: string): string {
  const src = blk.source as Record<string, unknown> | undefined;
  if (!src || typeof src !== "object") throw bad(`${param}.source`, "Field required");
  let body: string;
  if (src.type === "text") body = str(src.data, `${param}.source.data`);
  else if (src.type === "content") {
    const c = src.content;
    body = typeof c === "string" ? c : Array.isArray(c) ? c.map((x: any) => (x?.type === "text" ? String(x.text ?? "") : "")).join("\n") : "";
  } else {
    throw bad(`${param}.source.type`, `document source '${String(src.type)}' is not supported; send text documents (source.type "text" or "content")`);
  }
  const title = typeof blk.title === "string" && blk.title ? `Document: ${blk.title}\n` : "";
  const context = typeof blk.context === "string" && blk.context ? `${blk.context}\n` : "";
  return `${title}${context}${body}`;
}

function searchResultText(blk: Block): string {
  const parts = Array.isArray(blk.content) ? (blk.content as Block[]).filter((c) => c?.type === "text").map((c) => String(c.text ?? "")) : [];
  return [blk.title ? `Search result: ${String(blk.title)}` : "", blk.source ? `Source: ${String(blk.source)}` : "", ...parts].filter(Boolean).join("\n");
}

/** Blocks allowed both in a user turn and inside a tool_result: text, image, document, search result. */
function contentPart(blk: Block, p: string): TextPart | ImagePart | undefined {
  switch (blk?.type) {
    case "text":
      return { type: "text", text: str(blk.text, `${p}.text`) };
    case "image":
      return imagePart(blk, p);
    case "document":
      return { type: "text", text: documentText(blk, p) };
    case "search_result":
      return { type: "text", text: searchResultText(blk) };
    default:
      return undefined;
  }
}

function toolResultContent(c: unknown, param: string): Array<TextPart | ImagePart> {
  if (c === undefined || c === null) return [];
  if (typeof c === "string") return c ? [{ type: "text", text: c }] : [];
  if (!Array.isArray(c)) throw bad(param, "must be a string or an array of blocks");
  const out: Array<TextPart | ImagePart> = [];
  (c as Block[]).forEach((blk, j) => {
    const p = `${param}.${j}`;
    const part = contentPart(blk, p);
    if (part) {
      out.push(part);
      return;
    }
    switch (blk?.type) {
      case "tool_reference":
        // ToolSearch results name deferred tools; the model only needs to know which.
        out.push({ type: "text", text: `Tool loaded: ${String(blk.tool_name ?? blk.name ?? "")}` });
        break;
      default:
        // Unknown result block types are dropped rather than failing the request.
        break;
    }
  });
  return out;
}

export function userParts(blocks: Block[], where: string): UserPart[] {
  const out: UserPart[] = [];
  blocks.forEach((blk, j) => {
    const p = `${where}.${j}`;
    const part = contentPart(blk, p);
    if (part) {
      out.push(part);
      return;
    }
    switch (blk.type) {
      case "tool_result": {
        const id = str(blk.tool_use_id, `${p}.tool_use_id`);
        const part: UserPart = { type: "tool_result", toolUseId: id, content: toolResultContent(blk.content, `${p}.content`) };
        if (blk.is_error === true) part.isError = true;
        out.push(part);
        break;
      }
      default:
        // Unknown user block types (new API features) are dropped, never fatal.
        break;
    }
  });
  return out;
}

export function assistantParts(blocks: Block[], where: string): AssistantPart[] {
  const out: AssistantPart[] = [];
  blocks.forEach((blk, j) => {
    const p = `${where}.${j}`;
    switch (blk.type) {
      case "text":
        out.push({ type: "text", text: str(blk.text, `${p}.text`) });
        break;
      case "thinking": {
        const part: AssistantPart = { type: "thinking", text: str(blk.thinking, `${p}.thinking`) };
        if (typeof blk.signature === "string" && blk.signature) part.signature = blk.signature;
        out.push(part);
        break;
      }
      case "tool_use": {
        const input = blk.input === undefined ? {} : blk.input;
        if (!input || typeof input !== "object" || Array.isArray(input)) throw bad(`${p}.input`, "must be an object");
        out.push({ type: "tool_use", id: str(blk.id, `${p}.id`), name: str(blk.name, `${p}.name`), input });
        break;
      }
      default: {
        // Web search blocks of earlier answers: as text the upstream model can read.
        const text = serverBlockAsText(blk);
        if (text !== undefined) out.push({ type: "text", text });
        // redacted_thinking (opaque, no upstream equivalent), other server-tool blocks, unknown types: dropped.
        break;
      }
    }
  });
  return out;
}
