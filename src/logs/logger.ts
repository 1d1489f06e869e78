import type { EventBus, LogLevel } from "./bus";
import { redactFields, redactText } from "./redact";

export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Same logger, every line tagged with this request id. */
  child(requestId: string): Logger;
};

/** Producers log through this; redaction happens here so no subscriber can ever see a secret. */
export function createLogger(bus: EventBus, requestId?: string): Logger {
  const at = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) =>
    bus.emit({ kind: "log", at: Date.now(), level, msg: redactText(msg), requestId, fields: redactFields(fields) });
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (id) => createLogger(bus, id),
  };
}
