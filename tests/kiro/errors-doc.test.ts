/** docs/errors.md must document every error class the code can produce, with its pool action. */
import { expect, test } from "bun:test";
import { ERROR_ACTIONS } from "../../src/kiro/errors";

test("every UpstreamErrorClass in ERROR_ACTIONS has a row in docs/errors.md", async () => {
  const doc = await Bun.file(new URL("../../docs/errors.md", import.meta.url)).text();
  const rows = doc.split("\n").filter((l) => l.startsWith("| `"));
  const documented = new Set(rows.map((l) => /^\| `([a-z_]+)`/.exec(l)?.[1]).filter(Boolean));
  const classes = Object.keys(ERROR_ACTIONS);
  expect(classes.length).toBeGreaterThan(10);
  for (const cls of classes) expect({ cls, documented: documented.has(cls) }).toEqual({ cls, documented: true });
  // …and no row for a class the code does not have.
  for (const d of documented) expect(classes).toContain(d!);
});
