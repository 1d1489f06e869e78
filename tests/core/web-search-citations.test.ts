/** findUrlCitations: where an answer cites the results of its searches (url_citation spans). */
import { describe, expect, test } from "bun:test";
import { AnswerSources, findUrlCitations } from "../../src/core/web-search-citations";

const A = { url: "https://example.com/a", title: "A" };
const AB = { url: "https://example.com/a/b", title: "AB" };
const ROOT = { url: "https://docs.example.org/", title: "Docs" };

const spans = (text: string, hits = [A, AB, ROOT]) => findUrlCitations(text, hits).map((s) => [text.slice(s.start, s.end), s.url, s.title]);

describe("findUrlCitations", () => {
  test("bare URLs in text order, a sentence's full stop not included", () => {
    expect(spans("See https://example.com/a/b and https://example.com/a.")).toEqual([
      ["https://example.com/a/b", AB.url, "AB"],
      ["https://example.com/a", A.url, "A"],
    ]);
  });

  test("a Markdown link is cited as a whole", () => {
    expect(spans("Bun shipped ([the blog](https://example.com/a)).")).toEqual([["[the blog](https://example.com/a)", A.url, "A"]]);
  });

  test("a longer URL that only starts with a result's URL is not that result", () => {
    expect(spans("https://example.com/abc https://example.com/a.html https://example.com/a?x=1")).toEqual([]);
  });

  test("with or without a trailing slash", () => {
    expect(spans("https://docs.example.org and https://example.com/a/")).toEqual([
      ["https://docs.example.org", ROOT.url, "Docs"],
      ["https://example.com/a/", A.url, "A"],
    ]);
  });

  test("every occurrence; none without hits or text", () => {
    expect(spans("https://example.com/a, https://example.com/a")).toHaveLength(2);
    expect(findUrlCitations("https://example.com/a", [])).toEqual([]);
    expect(findUrlCitations("", [A])).toEqual([]);
  });

  test("UTF-16 offsets, as JavaScript slices text", () => {
    const text = "😀 https://example.com/a";
    const [s] = findUrlCitations(text, [A]);
    expect(s).toMatchObject({ start: 3, end: text.length });
  });
});

describe("AnswerSources", () => {
  test("hits of results (after filtering) and of cited text; errors add none", () => {
    const src = new AnswerSources();
    src.add({ type: "server_tool_use", id: "s1", name: "web_search", input: { query: "q" } });
    src.add({ type: "web_search_error", toolUseId: "s1", code: "unavailable", message: "no" });
    expect(src.citations("https://example.com/a")).toEqual([]);
    src.add({ type: "web_search_result", toolUseId: "s2", hits: [A] });
    src.add({ type: "cited_text", text: "x", citations: [{ url: AB.url, title: "AB", citedText: "x" }] });
    expect(src.searches).toBe(1);
    expect(src.citations("https://example.com/a/b then https://example.com/a").map((c) => c.title)).toEqual(["AB", "A"]);
  });
});
