// The build pages in headless Chromium (Debian's, driven by playwright-core), served by the real webhook
// against the test cluster and a real store (test/integration/page-world.ts): the list and its filter, a
// build page, a running build's log growing while the page is open, no script but the page's own file
// (the Content-Security-Policy holds: no violation; it even forbids the eval behind playwright's
// waitForFunction, so the test waits with locators), and a screenshot whose pixels are checked — the page
// is drawn (not blank, as wide as the window) and the failed step's badge is red, the passed one's green.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import {
  type HandMadeBuild,
  type PageWorld,
  pageReady,
  seedBuilds,
  startPageWorld,
} from "../integration/page-world.ts";
import { decodePng, share } from "./png.ts";

const CHROMIUM = "/usr/bin/chromium";
const NS = "team-a";
const missing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium; CI installs it)`;

let pw: PageWorld;
let browser: Browser;
let running: HandMadeBuild;
const problems: string[] = [];

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(`${pw.base}${path}`);
  return page;
}

describe("the build pages in Chromium", { skip: missing, timeout: 180_000 }, () => {
  before(async () => {
    pw = await startPageWorld();
    ({ running } = await seedBuilds(pw, NS, "not ok 2 <script>window.pwned=1</script>"));
    await pageReady(
      pw.base,
      `/repositories/${NS}/app`,
      (t) => t.includes("app-2") && t.includes("phase-failed"),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser?.close();
    await pw?.stop();
  });

  test("the list, its phase filter, and a link to a build", async () => {
    const page = await open(`/repositories/${NS}/app`);
    assert.deepEqual(await page.locator("tr.build-row td:first-child").allTextContents(), ["app-2", "app-1"]);
    await page.selectOption("select[name=phase]", "Failed");
    await Promise.all([page.waitForURL(/phase=Failed/), page.click("button[type=submit]")]);
    assert.deepEqual(await page.locator("tr.build-row td:first-child").allTextContents(), ["app-1"]);
    await Promise.all([page.waitForURL(/\/builds\/team-a\/app-1$/), page.click("text=app-1")]);
    assert.equal(await page.locator("h1").textContent(), "app-1 Failed");
    await page.close();
  });

  test("a finished build: its steps, the failing step's tail and whole log as text; a screenshot with a red badge where it failed", async () => {
    const page = await open(`/builds/${NS}/app-1`);
    await page.locator('#logs[data-ended="true"]').waitFor();
    assert.equal(
      await page.locator("#log-1 pre").textContent(),
      "ok 1\nnot ok 2 <script>window.pwned=1</script>\n",
    );
    assert.equal(await page.locator("pre.tail").textContent(), "not ok 2 <script>window.pwned=1</script>");
    assert.equal(await page.evaluate("window.pwned"), undefined, "no script from the data ran");
    assert.equal(await page.evaluate("document.scripts.length"), 1, "the page's own script only");
    assert.match((await page.locator("#log-status").textContent()) ?? "", /Log complete/);

    const shot = await page.screenshot({ fullPage: true });
    if (process.env.KILN_SCREENSHOT)
      (await import("node:fs")).writeFileSync(process.env.KILN_SCREENSHOT, shot);
    // Kept where KILN_SCREENSHOT_DIR says (to look at it, or as a CI artifact); else with the test's files.
    await writeFile(join(process.env.KILN_SCREENSHOT_DIR ?? pw.world.scratch, "build-page.png"), shot);
    const image = decodePng(shot);
    assert.equal(image.width, 1280);
    assert.ok(image.height >= 600, `a page, not a sliver: ${image.height}px high`);
    const drawn = share(image, (r, g, b) => r + g + b < 600);
    assert.ok(
      drawn > 0.03 && drawn < 0.6,
      `text, tables and badges drawn on a light page: ${(drawn * 100).toFixed(1)}% dark`,
    );
    // The badges' pixels, from where the browser laid them out, in the full-page screenshot.
    const badgeShare = async (selector: string, colour: (r: number, g: number, b: number) => boolean) => {
      const box = (await page.locator(selector).boundingBox())!;
      let hits = 0;
      let all = 0;
      for (let y = Math.ceil(box.y); y < Math.floor(box.y + box.height); y++) {
        for (let x = Math.ceil(box.x); x < Math.floor(box.x + box.width); x++) {
          const i = (y * image.width + x) * 4;
          all++;
          if (colour(image.pixels[i]!, image.pixels[i + 1]!, image.pixels[i + 2]!)) hits++;
        }
      }
      return hits / all;
    };
    const red = (r: number, g: number, b: number) => r > 150 && g < 90 && b < 90;
    const green = (r: number, g: number, b: number) => g > 100 && r < 80 && b < 100;
    const failedBadge = await badgeShare("tr.step.failed .badge", red);
    const passedBadge = await badgeShare('tr.step[data-step="build"] .badge', green);
    assert.ok(
      failedBadge > 0.4,
      `the failed step's badge is red: ${(failedBadge * 100).toFixed(0)}% red pixels`,
    );
    assert.ok(
      passedBadge > 0.4,
      `the passed step's badge is green: ${(passedBadge * 100).toFixed(0)}% green pixels`,
    );
    assert.ok((await badgeShare('tr.step[data-step="build"] .badge', red)) < 0.05, "and not red");
    await page.close();
  });

  test("a running build: lines its agent appends while the page is open appear, a step that starts later gets its part", async () => {
    const page = await open(`/builds/${NS}/app-2`);
    const log0 = page.locator("#log-0 pre");
    await page.locator("#log-0 pre", { hasText: "first line" }).waitFor();
    assert.equal(await log0.textContent(), "first line\n");
    await running.append("build", "second line <b>not bold</b>\n", true);
    await page.locator("#log-0 pre", { hasText: "second line" }).waitFor();
    assert.equal(await log0.textContent(), "first line\nsecond line <b>not bold</b>\n");
    assert.equal(await page.locator("#log-0 pre b").count(), 0, "appended as text");
    await running.setStatus({
      phase: "Running",
      steps: [
        { name: "build", phase: "Succeeded" },
        { name: "test", phase: "Running" },
      ],
    });
    await running.append("test", "testing\n");
    await page.locator("#log-1 pre", { hasText: "testing" }).waitFor();
    assert.equal(await page.locator("#log-1 pre").textContent(), "testing\n");
    assert.equal(await page.locator("#log-1").getAttribute("data-step"), "test");
    await running.append("test", "done\n", true);
    await running.setStatus({
      phase: "Succeeded",
      steps: [
        { name: "build", phase: "Succeeded" },
        { name: "test", phase: "Succeeded" },
      ],
    });
    await page.locator('#logs[data-ended="true"]').waitFor();
    assert.match(
      (await page.locator("#log-status").textContent()) ?? "",
      /The build ended \(Succeeded\): reload for its result/,
    );
    await page.close();
  });

  test("nothing the page did broke its Content-Security-Policy or threw", () => {
    assert.deepEqual(problems, []);
  });
});

if (missing) console.log(`# skipped: the build pages' browser test needs Chromium: ${missing}`);
