/**
 * Response ids carry their minting millisecond and whether they are stored, so a reader that
 * cannot find one yet knows whether another instance may still be storing it.
 */
import { expect, test } from "bun:test";
import { itemId, LANDING_WAIT_MS, landingWaitMs, newResponseId, parseResponseId, responseIdOfItem } from "../../src/dialects/responses/ids";

test("an id is resp_ + 32 hex: time, stored digit, random; item ids still name their response", () => {
  const now = Date.UTC(2026, 11, 6, 12, 0, 0);
  const id = newResponseId(true, now);
  expect(id).toMatch(/^resp_[0-9a-f]{32}$/);
  expect(parseResponseId(id)).toEqual({ mintedAt: now, stored: true });
  expect(parseResponseId(newResponseId(false, now))).toEqual({ mintedAt: now, stored: false });
  expect(newResponseId(true, now)).not.toBe(id);
  expect(responseIdOfItem(itemId(id, "msg", 3))).toBe(id);
  expect(parseResponseId("resp_0123456789abcdef0123456789abcdef")).toBeUndefined(); // not a 0/1 digit
  expect(parseResponseId("resp_abc")).toBeUndefined();
});

test("only a stored id minted within the hour is worth waiting for", () => {
  const now = Date.UTC(2026, 11, 6, 12, 0, 0);
  expect(landingWaitMs(newResponseId(true, now - 5_000), now)).toBe(LANDING_WAIT_MS);
  expect(landingWaitMs(newResponseId(true, now + 5_000), now)).toBe(LANDING_WAIT_MS); // another instance's clock a little ahead
  expect(landingWaitMs(newResponseId(true, now - 2 * 3_600_000), now)).toBe(0);
  expect(landingWaitMs(newResponseId(false, now), now)).toBe(0);
  expect(landingWaitMs("resp_from_somewhere_else", now)).toBe(0);
});
