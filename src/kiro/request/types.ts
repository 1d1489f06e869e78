/**
 * Wire shapes of GenerateAssistantResponse (as the streaming SDK @aws/codewhisperer-streaming-client 1.0.45 models them), limited to
 * the members kiro-server sends. Unset members are omitted, never null.
 */
export type KiroImageFormat = "png" | "jpeg" | "gif" | "webp";
export type KiroImageBlock = { format: KiroImageFormat; source: { bytes: string } };
export type KiroToolResult = {
  toolUseId: string;
  content: Array<{ text: string } | { json: unknown }>;
  status: "success" | "error";
};
export type KiroToolSpec = {
  toolSpecification: { name: string; description: string; inputSchema: { json: Record<string, unknown> } };
};
export type KiroUserInputMessage = {
  content: string;
  origin: "AI_EDITOR";
  modelId?: string;
  images?: KiroImageBlock[];
  userInputMessageContext?: { tools?: KiroToolSpec[]; toolResults?: KiroToolResult[] };
};
export type KiroToolUse = { toolUseId: string; name: string; input: Record<string, unknown> };
export type KiroAssistantResponseMessage = {
  content: string;
  toolUses?: KiroToolUse[];
  reasoningContent?: { reasoningText: { text: string; signature?: string } };
};
export type KiroHistoryEntry =
  | { userInputMessage: KiroUserInputMessage }
  | { assistantResponseMessage: KiroAssistantResponseMessage };

export type KiroGenerateRequest = {
  conversationState: {
    conversationId: string;
    agentContinuationId: string;
    agentTaskType: "vibe";
    chatTriggerType: "MANUAL";
    history?: KiroHistoryEntry[];
    currentMessage: { userInputMessage: KiroUserInputMessage };
  };
  profileArn?: string;
  additionalModelRequestFields?: Record<string, unknown>;
};
