/**
 * Canonical turn model: the only types shared by the client dialects (OpenAI, Anthropic)
 * and the upstream (Kiro). Dialect decoders produce a CanonicalRequest; the Kiro client
 * consumes it and yields CanonicalEvents; dialect encoders fold those events into the
 * client's wire format. Nothing here knows about any wire format.
 */

export type ImageMediaType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

export type TextPart = { type: "text"; text: string };
export type ImagePart = { type: "image"; mediaType: ImageMediaType; data: string /* base64 */ };
export type ThinkingPart = { type: "thinking"; text: string; signature?: string };
export type ToolUsePart = { type: "tool_use"; id: string; name: string; input: unknown };
export type ToolResultPart = {
  type: "tool_result";
  toolUseId: string;
  /** Result content: text and images, in order. */
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
};

export type UserPart = TextPart | ImagePart | ToolResultPart;
export type AssistantPart = TextPart | ThinkingPart | ToolUsePart;

export type CanonicalMessage =
  | { role: "user"; content: UserPart[] }
  | { role: "assistant"; content: AssistantPart[] };

export type ToolDefinition = {
  name: string;
  description: string;
  /** JSON Schema of the tool input (object schema). */
  inputSchema: Record<string, unknown>;
};

/**
 * A server tool: one the client asks the server to run itself instead of returning a call to
 * the client (Anthropic `web_search_20250305` and later versions of the same type; OpenAI's web
 * search options map here too). kiro-server runs web search through the upstream. Web fetch
 * (Anthropic `web_fetch_*`) is declared to the model but the upstream offers no fetch, so
 * every call of it ends in an `unavailable` tool error (docs/web-search.md).
 */
export type ServerToolRequest = {
  type: "web_search" | "web_fetch";
  /** The name the client declared (Anthropic: always "web_search" / "web_fetch"). */
  name: string;
  /** The client's versioned type, e.g. "web_search_20250305" (logs only). */
  version?: string;
  /** Searches allowed in one answer; undefined = the client set no limit. */
  maxUses?: number;
  /** Only results from these domains (a domain includes its subdomains; a path narrows it). */
  allowedDomains?: string[];
  /** Never results from these domains. */
  blockedDomains?: string[];
  /**
   * What a forced search (tool_choice names the tool) answers with: the cited digest of the
   * results without a model round ("digest", the default: Claude Code's WebSearch), or the
   * model's answer after it had to search first ("model": OpenAI's forced web search).
   */
  forcedAnswer?: "digest" | "model";
};

export type ToolChoice =
  | { type: "auto" }
  | { type: "any" } // OpenAI "required"
  | { type: "none" }
  | { type: "tool"; name: string };

export type ThinkingSetting =
  | { type: "disabled" }
  | { type: "enabled"; budgetTokens: number }
  | { type: "adaptive"; effort?: "low" | "medium" | "high" | "max" };

/**
 * The model a request is served by, resolved once when the request is decoded. The upstream
 * receives `upstreamId`; client-facing answers echo `requested`.
 */
export type ResolvedModel = {
  /** The name the client sent (responses echo it). */
  requested: string;
  /** Canonical client-facing name (after aliases and family fallback). */
  name: string;
  /** The id sent upstream (e.g. "claude-sonnet-4.5"). */
  upstreamId: string;
  contextWindow: number;
  maxOutputTokens: number;
  /** The upstream model reasons natively (no <thinking> tag prompt needed). */
  nativeThinking: boolean;
  /** Legacy enum-style upstream id (CLAUDE_*_V1_0), for hosts that refuse the dotted one. */
  legacyId?: string;
};

export type CanonicalRequest = {
  /** The model, resolved once by the decoder (`model.requested` is the name the client sent). */
  model: ResolvedModel;
  /** System text, in order (top-level system + system-role messages folded in). */
  system: string;
  messages: CanonicalMessage[];
  tools: ToolDefinition[];
  /** Server tools the client declared (absent or empty = none). */
  serverTools?: ServerToolRequest[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  /** Output cap enforced by kiro-server on the event stream (upstream ignores it). */
  maxTokens: number;
  /** Enforced by kiro-server on the event stream (upstream ignores them). */
  stopSequences: string[];
  thinking: ThinkingSetting;
  temperature?: number;
  topP?: number;
  /** Free-form hint appended to the system text (e.g. JSON response format instructions). */
  responseFormatInstruction?: string;
  metadata: {
    /** Opaque conversation/session key used for account affinity. */
    conversationId?: string;
    /** Which dialect produced the request, for logs only. */
    dialect: "openai" | "anthropic" | "responses";
  };
};

/** What a prompt-token count reads of a request (a count route may have no model to name). */
export type PromptParts = Pick<CanonicalRequest, "system" | "responseFormatInstruction" | "tools" | "messages">;

export type StopReason =
  | "end_turn"
  | "tool_use"
  | "max_tokens"
  | "stop_sequence"
  | "model_context_window_exceeded"
  | "refusal";

export type Usage = {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  /** Credits charged (Kiro meteringEvent), not tokens. */
  credits?: number;
  /** Web searches kiro-server ran for the answer (server tool), when the request declared the tool. */
  webSearchRequests?: number;
};

export type WebSearchHit = {
  url: string;
  title: string;
  snippet?: string;
  /** Epoch ms. */
  publishedDate?: number;
};

/** The error codes a client understands (Anthropic's web search error codes). */
export type WebSearchErrorCode = "invalid_tool_input" | "unavailable" | "max_uses_exceeded" | "too_many_requests" | "query_too_long";

export type WebCitation = { url: string; title: string; citedText: string };

/** What the turn runner tells the encoders about a server-side web search (docs/web-search.md). */
export type WebSearchEvent =
  | { type: "server_tool_use"; id: string; name: "web_search"; input: { query: string } }
  | { type: "web_search_result"; toolUseId: string; hits: WebSearchHit[] }
  | { type: "web_search_error"; toolUseId: string; code: WebSearchErrorCode; message: string }
  /** Answer text that cites search results (a plain `text` event has no citations). */
  | { type: "cited_text"; text: string; citations: WebCitation[] };

/** The error codes of a web fetch a client understands (Anthropic's); only `unavailable` is produced. */
export type WebFetchErrorCode = "unavailable";

/** What the turn runner tells the encoders about the model's call of the web fetch server tool. */
export type WebFetchEvent =
  | { type: "web_fetch_call"; id: string; input: { url: string } }
  | { type: "web_fetch_error"; toolUseId: string; code: WebFetchErrorCode; message: string };

/**
 * Events yielded by the upstream client and the turn runner. Tool calls are well-formed:
 * tool_start, zero or more tool_args (fragments of the JSON input, in order), tool_end.
 * Tool calls never interleave with each other.
 */
export type CanonicalEvent =
  | { type: "text"; text: string }
  | { type: "thinking"; text: string; signature?: string }
  | { type: "tool_start"; id: string; name: string }
  | { type: "tool_args"; id: string; json: string }
  | { type: "tool_end"; id: string }
  | { type: "usage"; usage: Partial<Usage>; contextUsagePercentage?: number }
  | { type: "stop"; reason: StopReason; stopSequence?: string }
  /** Only in turns whose request declared a server tool (CanonicalRequest.serverTools). */
  | WebSearchEvent
  | WebFetchEvent;
