import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TARGETS, targetFileName, writeSha256Sums } from "../../scripts/build";
import { BREW_TARGETS, parseSha256Sums, renderFormula, writeFormula } from "../../scripts/release";

const dir = mkdtempSync(join(tmpdir(), "kiro-release-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each fake "binary" has different content, so a swapped checksum cannot go unnoticed. */
const names = TARGETS.map(targetFileName);
for (const name of names) writeFileSync(join(dir, name), `fake executable for ${name}\n`);

type Pair = { os: string; arch: string; url: string; sha256: string };

/** Reads the formula the way Homebrew's DSL nests it: on_macos/on_linux → on_arm/on_intel → url + sha256. */
function parseFormula(rb: string): Pair[] {
  const pairs: Pair[] = [];
  let os = "";
  let arch = "";
  let url = "";
  for (const line of rb.split("\n").map((l) => l.trim())) {
    if (line === "on_macos do") os = "darwin";
    else if (line === "on_linux do") os = "linux";
    else if (line === "on_arm do") arch = "arm64";
    else if (line === "on_intel do") arch = "x64";
    else if (line.startsWith("url ")) url = JSON.parse(line.slice(4));
    else if (line.startsWith("sha256 ")) {
      expect(os && arch && url).toBeTruthy();
      pairs.push({ os, arch, url, sha256: JSON.parse(line.slice(7)) });
      url = "";
    }
  }
  return pairs;
}

describe("Homebrew formula from SHA256SUMS", () => {
  test("one url/sha256 pair per macOS/Linux platform, each matching its file", async () => {
    const sumsText = await writeSha256Sums(dir, names);
    expect(sumsText.trim().split("\n")).toHaveLength(5);
    const outPath = join(dir, "Formula", "kiro-server.rb");
    const rb = writeFormula({ sumsPath: join(dir, "SHA256SUMS"), outPath, version: "1.2.3", baseUrl: "https://example.test/dl/v1.2.3/" });
    expect(readFileSync(outPath, "utf8")).toBe(rb);

    const pairs = parseFormula(rb);
    expect(pairs.map((p) => `${p.os}-${p.arch}`).sort()).toEqual(BREW_TARGETS.map((t) => `${t.os}-${t.arch}`).sort());
    for (const p of pairs) {
      const name = `kiro-server-${p.os}-${p.arch}`;
      expect(p.url).toBe(`https://example.test/dl/v1.2.3/${name}`);
      // Independent of the script: hash the file here and compare.
      const expected = new Bun.CryptoHasher("sha256").update(readFileSync(join(dir, name))).digest("hex");
      expect(p.sha256).toBe(expected);
    }
    expect(new Set(pairs.map((p) => p.sha256)).size).toBe(4);
  });

  test("SHA256SUMS is in sha256sum format and round-trips", async () => {
    const text = readFileSync(join(dir, "SHA256SUMS"), "utf8");
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^[0-9a-f]{64}  kiro-server-[a-z]+-(x64|arm64)(\.exe)?$/);
    const sums = parseSha256Sums(text);
    expect([...sums.keys()].sort()).toEqual([...names].sort());
  });

  test("formula has version, install, service on 127.0.0.1:7860 with the DB under var, and a version test", () => {
    const rb = renderFormula({ version: "1.2.3", baseUrl: "https://example.test", sums: parseSha256Sums(readFileSync(join(dir, "SHA256SUMS"), "utf8")) });
    expect(rb).toContain('class KiroServer < Formula');
    expect(rb).toContain('version "1.2.3"');
    expect(rb).toContain('bin.install "kiro-server-#{os}-#{arch}" => "kiro-server"');
    const service = rb.slice(rb.indexOf("service do"), rb.indexOf("test do"));
    expect(service).toContain('run [opt_bin/"kiro-server"]');
    expect(service).toContain('KIRO_KV_PATH: var/"kiro-server/kiro-server.db"');
    expect(service).toContain('HOST: "127.0.0.1"');
    expect(service).toContain('PORT: "7860"');
    expect(service).toMatch(/log_path var\/"log\/kiro-server[^"]*\.log"/);
    expect(service).toMatch(/error_log_path var\/"log\/kiro-server[^"]*\.log"/);
    expect(rb).toContain('assert_match version.to_s, shell_output("#{bin}/kiro-server --version")');
    // Balanced blocks: every `do` has its `end` (a cheap stand-in for `ruby -c`, which CI lacks).
    const opens = rb.split("\n").filter((l) => /\bdo$/.test(l.trim()) || /^\s*(class|def) /.test(l)).length;
    const ends = rb.split("\n").filter((l) => l.trim() === "end").length;
    expect(ends).toBe(opens);
  });

  test("a missing platform in SHA256SUMS is an error, not a formula with a hole", () => {
    const sums = parseSha256Sums(readFileSync(join(dir, "SHA256SUMS"), "utf8"));
    sums.delete("kiro-server-linux-arm64");
    expect(() => renderFormula({ version: "1.2.3", baseUrl: "https://example.test", sums })).toThrow(/kiro-server-linux-arm64/);
  });

  test("a base URL that Ruby would interpolate is refused", () => {
    const sums = parseSha256Sums(readFileSync(join(dir, "SHA256SUMS"), "utf8"));
    expect(() => renderFormula({ version: "1.2.3", baseUrl: "https://x.test/#{system('id')}", sums })).toThrow(/interpolate/);
  });
});
