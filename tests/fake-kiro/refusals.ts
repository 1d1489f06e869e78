/**
 * What a chat call can be refused with once its bearer is known, in the service's order: family
 * A's missing profileArn, the account's behaviours (also used for MCP calls), members the account
 * may not use, the request validator, and a model outside the account's plan.
 */
import type { AccountState } from "./accounts";
import { abuseAnswer } from "./abuse";
import { maxInputCharsFor, planRefusal } from "./models";
import { typedError } from "./responses";
import { validateGenerateAssistantRequest } from "./validator";

const PROFILE_ARN_REQUIRED = "profileArn is required for this request";
/**
 * No wording on record for a profileArn that is not the account's own; deliberately none of the
 * strings the error classifier (docs/errors.md) keys on.
 */
const PROFILE_DENIED = "You do not have access to the profile specified in the request.";

function hasMember(o: unknown, key: string): boolean {
  return typeof o === "object" && o !== null && key in o;
}

/** The real service words its ValidationException by reason (prompt too long, invalid model, malformed request). */
function validationMessage(reason: string | undefined): string {
  if (reason === "INVALID_MODEL_ID") return "Invalid model. Please select a different model.";
  if (reason === "CONTENT_LENGTH_EXCEEDS_THRESHOLD") return "Input is too long.";
  return "Improperly formed request.";
}

/** The answer the account's behaviours (FakeBehaviour) force on a chat or MCP call, if any. */
export function behaviourError(st: AccountState, raw: string): Response | undefined {
  const b = st.pub.behaviour;
  const abuse = abuseAnswer(b, `user-${st.init.refreshToken.slice(-6)}`);
  if (abuse) return abuse;
  if (b.suspended) {
    return typedError(403, "AccessDeniedException", "Your User ID (fake) temporarily is suspended. Please contact support.", "TEMPORARILY_SUSPENDED");
  }
  if (b.quota) return typedError(402, "ServiceQuotaExceededException", "You have reached the limit.", "MONTHLY_REQUEST_COUNT");
  if (b.throttleCalls && b.throttleCalls > 0) {
    b.throttleCalls--;
    return typedError(429, "ThrottlingException", "Too many requests, please wait before trying again.", null, {
      "retry-after": String(b.retryAfterSec ?? 7),
    });
  }
  if (b.capacityCalls && b.capacityCalls > 0) {
    b.capacityCalls--;
    return typedError(429, "ThrottlingException", "I am experiencing high traffic, please try again shortly.", "INSUFFICIENT_MODEL_CAPACITY");
  }
  if (b.transient500Calls && b.transient500Calls > 0) {
    b.transient500Calls--;
    return typedError(500, "InternalServerException", "Encountered an unexpected error when processing the request, please try again.", null);
  }
  if (b.inputTooLong || (b.maxBodyBytes !== undefined && raw.length > b.maxBodyBytes)) {
    return typedError(400, "ValidationException", "Input is too long.", "CONTENT_LENGTH_EXCEEDS_THRESHOLD");
  }
  return undefined;
}

/**
 * 403s the real service gives for members the account may not use:
 * workspace context / customizations, and a profileArn that is not this identity's own
 * (profile-less Builder ID / IdC / API-key identities have none, so any ARN is refused).
 */
function authorizationError(st: AccountState, body: unknown): Response | undefined {
  const cs = (body as any)?.conversationState;
  if (hasMember(cs, "workspaceId")) {
    return typedError(403, "AccessDeniedException", "You are not authorized to use workspace context.", "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS");
  }
  if (hasMember(cs, "customizationArn")) {
    return typedError(403, "AccessDeniedException", "You are not authorized to access this customization.", "UNAUTHORIZED_CUSTOMIZATION_RESOURCE_ACCESS");
  }
  if (hasMember(body, "profileArn") && (body as any).profileArn !== st.pub.profileArn) {
    return typedError(403, "AccessDeniedException", PROFILE_DENIED, null);
  }
  return undefined;
}

/** The first refusal a chat call meets after the bearer check, or undefined when the scenario may run. */
export function chatRefusal(st: AccountState, body: unknown, raw: string, familyA: boolean): Response | undefined {
  // Family A refuses a body without an ARN before looking at anything else (400 "profileArn is required for this request").
  if (familyA && !hasMember(body, "profileArn")) {
    return typedError(400, "ValidationException", PROFILE_ARN_REQUIRED, null);
  }
  const fail = behaviourError(st, raw);
  if (fail) return fail;
  const denied = authorizationError(st, body);
  if (denied) return denied;
  const v = validateGenerateAssistantRequest(body, { maxInputChars: maxInputCharsFor(body) });
  if (!v.ok) {
    return typedError(400, "ValidationException", validationMessage(v.reason), v.reason ?? null, { "x-fake-validation": v.message.slice(0, 500) });
  }
  const refused = planRefusal(st.init.models, body);
  if (refused) return typedError(400, "ValidationException", refused.message, refused.reason);
  return undefined;
}
