import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sampleBuild, sampleRepository } from "../../test/fixtures/build.ts";
import { escapeHtml, html } from "./html.ts";
import { renderBuild, renderList, renderProblem, timeText } from "./render.ts";
import { buildView, listView } from "./views.ts";

const EVIL = `<script>alert("x")</script>&'`;

/** No element, attribute or inline handler that the text put in: the markup stays ours. */
function assertInert(page: string) {
  assert.ok(!page.includes("<script>alert"), "no <script> from the data");
  assert.ok(!/<script(?![^>]*\bsrc="\/assets\/build-page\.js")/.test(page), "the only script is our file");
  assert.ok(!/\son[a-z]+=/i.test(page), "no inline event handler");
  assert.ok(!/<style|\sstyle=/i.test(page), "no inline style");
}

describe("escaping", () => {
  test("every interpolated value is escaped, in text and attributes; Html from a template is not", () => {
    assert.equal(escapeHtml(EVIL), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    const inner = html`<b>${EVIL}</b>`;
    assert.equal(
      html`<p title="${EVIL}">${inner}${[EVIL, 1]}${undefined}${false}</p>`.text,
      `<p title="${escapeHtml(EVIL)}"><b>${escapeHtml(EVIL)}</b>${escapeHtml(EVIL)}1</p>`,
    );
  });
  test("a step name, a step message, a commit message, a branch and a phase message with <script> render as text", () => {
    const b = sampleBuild({
      spec: { revision: { sha: "a".repeat(40), branch: EVIL, message: EVIL, author: EVIL } },
      status: {
        phase: "Failed",
        message: EVIL,
        steps: [{ name: EVIL, phase: "Failed", exitCode: 1, message: `${EVIL}\nlast line` }],
      },
    });
    const page = renderBuild(buildView(b, sampleRepository(), { available: true }, 0));
    assertInert(page);
    assert.ok(page.includes(`<pre class="tail">${escapeHtml(EVIL)}\nlast line</pre>`));
    assert.ok(page.includes(`data-step="${escapeHtml(EVIL)}"`));
    const list = renderList(listView("ci", "api", sampleRepository(), [b], { page: 1, branch: EVIL }, 0));
    assertInert(list);
    assert.ok(list.includes(`value="${escapeHtml(EVIL)}"`), "the filter's value, escaped");
    assertInert(renderProblem(404, EVIL));
  });
});

describe("pages", () => {
  test("the build page: facts, the failed step marked and its tail, a badge per step, the log's parts", () => {
    const b = sampleBuild({
      status: {
        phase: "Failed",
        reason: "StepFailed",
        steps: [
          { name: "build", phase: "Succeeded", exitCode: 0 },
          { name: "test", phase: "Failed", exitCode: 3, message: "FAIL x.test" },
        ],
      },
    });
    const page = renderBuild(buildView(b, sampleRepository(), { available: true }, 0));
    assert.match(page, /<h1>api-main-4f2c1a9 <span class="badge phase-failed">Failed<\/span><\/h1>/);
    assert.match(page, /Failed at <span class="step-name">test<\/span> \(exit code 3\)/);
    assert.match(page, /<tr class="step failed" data-step="test">/);
    assert.match(page, /<tr class="step" data-step="build">/);
    assert.match(page, /data-events="\/builds\/ci\/api-main-4f2c1a9\/events"/);
    assert.match(page, /<details class="step-log" id="log-1" data-step="test" open>/);
    assert.match(page, /href="\/builds\/ci\/api-main-4f2c1a9\/log\?step=test">raw</);
    assert.match(page, /<a href="\/repositories\/ci\/api">ci\/api<\/a>/);
    assert.match(page, /<script src="\/assets\/build-page.js" defer><\/script>/);
  });
  test("without a store, the build page has no script and says why there is no log", () => {
    const page = renderBuild(
      buildView(sampleBuild(), undefined, { available: false, why: "no store here" }, 0),
    );
    assert.match(page, /No log here: no store here/);
    assert.ok(!page.includes("<script"));
  });
  test("the list: a row per build linking its page, the page number and count, newer/older links", () => {
    const builds = Array.from({ length: 60 }, (_, i) => sampleBuild({ name: `b-${i}` }));
    const page = renderList(listView("ci", "api", sampleRepository(), builds, { page: 1 }, 0));
    assert.equal(page.match(/<tr class="build-row/g)?.length, 50);
    assert.match(page, /<a href="\/builds\/ci\/b-0">b-0<\/a>/);
    assert.match(page, /page 1 of 2 · 60 builds/);
    assert.match(page, /<a rel="next" href="\/repositories\/ci\/api\?page=2">older →<\/a>/);
    assert.match(page, /<span class="off">← newer<\/span>/);
    assert.match(page, /<option value="Failed">Failed<\/option>/);
    const filtered = renderList(listView("ci", "api", undefined, [], { page: 1, phase: "Failed" }, 0));
    assert.match(filtered, /No builds match\./);
    assert.match(filtered, /<option value="Failed" selected>/);
    assert.match(filtered, /No Repository ci\/api exists any more/);
  });
  test("times in UTC, in <time>", () => {
    assert.equal(
      timeText("2026-12-02T20:54:11Z").text,
      '<time datetime="2026-12-02T20:54:11Z">2026-12-02 20:54:11 UTC</time>',
    );
    assert.equal(timeText(undefined).text, "");
    assert.equal(
      timeText("2026-12-02T21:54:11.5+01:00").text,
      '<time datetime="2026-12-02T21:54:11.5+01:00">2026-12-02 20:54:11 UTC</time>',
    );
    assert.equal(timeText("soon <b>").text, "soon &lt;b&gt;");
  });
});
