/**
 * docs/errors.md is rendered from the error tables (src/core/error-table.ts, src/kiro/errors.ts
 * and each dialect's error types). Regenerate with `bun scripts/errors-doc.ts`.
 */
import { expect, test } from "bun:test";
import { ERROR_TABLE, UPSTREAM_ERROR_CLASSES } from "../../src/core/error-table";
import { TYPES as ANTHROPIC_TYPES } from "../../src/dialects/anthropic/errors";
import { CLASSIFY_RULES } from "../../src/kiro/errors";
import { BEGIN, DOC_PATH, END, renderDoc, tableGaps } from "../../scripts/errors-doc";

test("docs/errors.md is the rendering of the tables (regenerate: bun scripts/errors-doc.ts)", async () => {
  const current = await Bun.file(DOC_PATH).text();
  expect(current).toContain(BEGIN);
  expect(current).toContain(END);
  expect(renderDoc(current)).toBe(current);
});

test("every class has a classification rule, a pool action, a client row and a type in every dialect", () => {
  expect(tableGaps()).toEqual([]);
  const doc = renderDoc(`${BEGIN}${END}`);
  for (const cls of UPSTREAM_ERROR_CLASSES) expect(doc).toContain(`| \`${cls}\` |`);
});

test("the completeness check notices what is missing", () => {
  const row = ERROR_TABLE.forbidden;
  const table = ERROR_TABLE as Record<string, unknown>;
  const rules = CLASSIFY_RULES as unknown as Array<{ cls: string }>;
  const removed = rules.map((r, i) => [r, i] as const).filter(([r]) => r.cls === "forbidden");
  const before = ANTHROPIC_TYPES.no_account;
  try {
    for (const [, i] of removed.reverse()) rules.splice(i, 1);
    delete (ANTHROPIC_TYPES as Record<string, string>).no_account;
    table.forbidden = { ...row, pool: { ...row.pool, then: undefined } };
    const gaps = tableGaps();
    expect(gaps).toContain("forbidden: no classification rule");
    expect(gaps).toContain("forbidden: no pool action");
    expect(gaps).toContain("forbidden: client kind no_account has no Anthropic error type");
    expect(() => renderDoc(`${BEGIN}${END}`)).toThrow(/incomplete/);
    delete table.forbidden;
    expect(tableGaps()).toContain("forbidden: no row in ERROR_TABLE");
  } finally {
    table.forbidden = row;
    for (const [r, i] of removed.reverse()) rules.splice(i, 0, r);
    (ANTHROPIC_TYPES as Record<string, string>).no_account = before;
  }
  expect(tableGaps()).toEqual([]);
});
