import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseHtml } from "../../stand-ins/telegram/html.ts";
import { makeBuild } from "../../test/fixtures/reporting.ts";
import {
  type Announcement,
  escapeHtml,
  formatAnnouncement,
  formatDigest,
  MESSAGE_LIMIT,
  truncateEscaped,
} from "./format.ts";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function failed(
  message: string,
  extra: { author?: string; step?: string; branch?: string } = {},
): Announcement {
  const build = makeBuild(
    "api-7f3a",
    {
      phase: "Failed",
      duration: "3m07s",
      steps: [
        { name: "install", phase: "Succeeded", exitCode: 0 },
        { name: extra.step ?? "test", phase: "Failed", exitCode: 2 },
      ],
    },
    { message, ...(extra.branch ? { branch: extra.branch } : {}) },
  );
  if (extra.author) build.spec.revision.author = extra.author;
  return {
    build,
    repository: "acme/api",
    event: "failure",
    url: "https://kiln.example/builds/default/api-7f3a",
  };
}

/** Parses like Telegram does; throws on anything Telegram would reject. */
function assertDeliverable(html: string, text: string) {
  const parsed = parseHtml(html);
  assert.ok(html.length <= MESSAGE_LIMIT, `html is ${html.length} long`);
  assert.ok(text.length <= MESSAGE_LIMIT, `text is ${text.length} long`);
  assert.ok(!LONE_SURROGATE.test(parsed.text), "no split surrogate pair");
  assert.ok(!LONE_SURROGATE.test(text), "no split surrogate pair in plain text");
  return parsed;
}

describe("formatAnnouncement", () => {
  test("says repository, branch, short sha, author, title, failing step, duration and link", () => {
    const { html, text } = formatAnnouncement(failed("Fix the flaky test\n\nbody"));
    assert.equal(
      html,
      [
        "❌ Failed: <b>acme/api</b> <code>main</code>",
        '<a href="https://github.com/acme/api/compare/a...b"><code>0123456</code></a> Fix the flaky test — <i>Ada Lovelace</i>',
        "Step <b>test</b> failed (exit 2), after 3m07s",
        '<a href="https://kiln.example/builds/default/api-7f3a">Open build</a>',
      ].join("\n"),
    );
    assert.match(text, /^❌ Failed: acme\/api main\n0123456 \(https:\/\/github.com/);
    assert.match(text, /Open build \(https:\/\/kiln.example\/builds\/default\/api-7f3a\)$/);
  });

  test("without a link it shows the kubectl command", () => {
    const a = failed("x");
    delete a.url;
    assert.match(formatAnnouncement(a).html, /<code>kubectl -n default describe build api-7f3a<\/code>$/);
  });

  const hostile: [string, string][] = [
    ["HTML", '<script>alert("x")</script> & <b>bold</b> &amp; &lt; </code> <a href="x">'],
    ["Markdown", "*bold* _it_ [link](http://x) `code` ~~s~~ > quote # h + - = | { } . ! \\"],
    ["emoji", "🔥 fix 👨‍👩‍👧‍👦 family 🇺🇦 flag é (e + combining) 𝕏"],
    ["10,000 characters", "a&<>".repeat(2500)],
    ["10,000 emoji", "👨‍👩‍👧‍👦".repeat(10_000 / 11)],
    ["10,000 flags", "🇺🇦".repeat(2500)],
  ];
  for (const [name, message] of hostile) {
    test(`hostile commit message (${name}) parses, stays under the limit, keeps what it shows intact`, () => {
      const { html, text } = formatAnnouncement(failed(message));
      const parsed = assertDeliverable(html, text);
      const shown = parsed.text
        .split("\n")[1]!
        .replace(/^0123456 /, "")
        .replace(/ — Ada Lovelace$/, "");
      if (shown.endsWith("…")) {
        assert.ok(message.startsWith(shown.slice(0, -1)), "a prefix of the original, cut between graphemes");
        const cut = shown.slice(0, -1);
        const graphemes = [...new Intl.Segmenter("en", { granularity: "grapheme" }).segment(message)];
        assert.ok(
          graphemes.some((g) => g.index === cut.length),
          "cut on a grapheme boundary",
        );
      } else {
        assert.equal(shown, message);
      }
    });
  }

  test("every field hostile and huge at once still fits", () => {
    const huge = `<&>"🇺🇦`.repeat(3000);
    const a = failed(huge, { author: huge, step: huge, branch: huge });
    a.repository = huge;
    a.build.status!.message = huge;
    a.build.status!.phase = "Errored";
    const { html, text } = formatAnnouncement(a);
    assertDeliverable(html, text);
  });

  test("any commit message is deliverable (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 12_000 }).map((s) => `${s}\uD800`),
        fc.string({ maxLength: 300 }),
        (message, author) => {
          const { html, text } = formatAnnouncement(failed(message, { author }));
          assertDeliverable(html, text);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("truncateEscaped", () => {
  test("budget counts escaped length and never splits an entity", () => {
    assert.equal(truncateEscaped("abc", 3), "abc");
    assert.equal(truncateEscaped("&&&&", 12), "&&…");
    assert.ok(escapeHtml(truncateEscaped("&".repeat(100), 50)).length <= 50);
  });
});

describe("formatDigest", () => {
  test("one line per build, cut with a count when too many", () => {
    const items = Array.from({ length: 200 }, (_, i) => {
      const a = failed(`commit ${i}`, { branch: `feature/<${i}>` });
      a.build.metadata.name = `b${i}`;
      return a;
    });
    const { html, text } = formatDigest(items);
    const parsed = assertDeliverable(html, text);
    assert.match(
      parsed.text,
      /^🧾 200 builds finished\n❌ acme\/api feature\/<0> 0123456 failed at test \(3m07s\)/,
    );
    assert.match(parsed.text, /…and \d+ more: kubectl -n default get builds$/);
    const small = parseHtml(formatDigest(items.slice(0, 3)).html).text.split("\n");
    assert.equal(small.length, 4);
  });
});
