/** Short, sortable-enough request ids for logs: "req_" + 12 base36 chars. */
export function newRequestId(): string {
  const n = crypto.getRandomValues(new Uint8Array(8));
  return "req_" + Array.from(n, (b) => (b % 36).toString(36)).join("") + Date.now().toString(36).slice(-4);
}
