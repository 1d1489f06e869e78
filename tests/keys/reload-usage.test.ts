/**
 * A key reload (a change seen on the shared database's change feed) while this instance's usage
 * write is still on its way must not show the key's counters as the database had them before that
 * write: counters only grow within a month. The repository here behaves as the PostgreSQL one
 * does (usage written in the background, answered with the cluster totals), with the answer held
 * back by the test.
 */
import { expect, test } from "bun:test";
import { SecretBox } from "../../src/crypto/secret-box";
import type { ClientKey, KeyRepo, KeyTotals, KeyUsage } from "../../src/db/repos";
import { ClientKeys } from "../../src/keys/client-keys";

function sharedRepo() {
  const rows = new Map<string, ClientKey>();
  const answers: Array<() => void> = [];
  const repo: KeyRepo = {
    all: () => [...rows.values()].map((r) => ({ ...r })),
    get: (id) => rows.get(id),
    insert: (row) => void rows.set(row.id, { builtin: false, allowedModels: null, expiresAt: null, monthlyTokenBudget: null, rpmLimit: null, tpmLimit: null, concurrencyLimit: null, tokensThisMonth: 0, budgetMonth: null, requests: 0, lastUsedAt: null, revokedAt: null, keyEnc: null, ...row } as ClientKey),
    update: (id, patch) => void rows.set(id, { ...rows.get(id)!, ...patch }),
    // The database adds the deltas and answers with its totals once the test lets it.
    writeUsage: (usage: KeyUsage[]) =>
      new Promise<KeyTotals[]>((resolve) =>
        answers.push(() => {
          for (const u of usage) {
            const r = rows.get(u.key.id)!;
            const same = r.budgetMonth === u.month;
            rows.set(r.id, { ...r, budgetMonth: u.month, tokensThisMonth: (same ? r.tokensThisMonth : 0) + u.tokens, requests: r.requests + u.requests, lastUsedAt: u.lastUsedAt });
          }
          resolve(usage.map((u) => ({ id: u.key.id, tokensThisMonth: rows.get(u.key.id)!.tokensThisMonth, budgetMonth: u.month, requests: rows.get(u.key.id)!.requests })));
        }),
      ),
    flushDelayMs: 600_000,
  };
  return { repo, answerAll: async () => { for (const a of answers.splice(0)) a(); await Bun.sleep(0); } };
}

test("usage counted here survives a reload while its write is unanswered, and is not counted twice after", async () => {
  const { repo, answerAll } = sharedRepo();
  const keys = new ClientKeys(repo, await SecretBox.fromSecret("reload-usage-test-secret"));
  const { record } = await keys.create({ name: "probe" });
  const count = () => keys.list().find((k) => k.id === record.id)!;

  keys.recordUsage(record.id, 120);
  keys.recordUsage(record.id, 30);
  // The change feed reports another change (the key's own creation, say): the map is rebuilt.
  keys.reload();
  expect(count()).toMatchObject({ tokensThisMonth: 150, requests: 2 });

  await answerAll();
  expect(count()).toMatchObject({ tokensThisMonth: 150, requests: 2 });
  keys.recordUsage(record.id, 50);
  keys.reload();
  expect(count()).toMatchObject({ tokensThisMonth: 200, requests: 3 });
  await answerAll();
  keys.reload();
  expect(count()).toMatchObject({ tokensThisMonth: 200, requests: 3 });
});
