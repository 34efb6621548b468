import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { readInRoot, resolveInRoot, rootView } from "./root-view.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "root-view-test-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
fs.mkdirSync(path.join(root, "usr/lib"), { recursive: true });
fs.mkdirSync(path.join(root, "etc"));
fs.writeFileSync(path.join(root, "usr/lib/passwd"), "image's\n");
fs.symlinkSync("/usr/lib/passwd", path.join(root, "etc/passwd")); // absolute: inside the image
fs.symlinkSync("../usr/lib", path.join(root, "etc/lib")); // relative
fs.symlinkSync("/etc/shadow-of-host", path.join(root, "etc/escape"));
fs.symlinkSync("../../../../etc", path.join(root, "up"));
fs.symlinkSync("loop", path.join(root, "loop"));

test("paths resolve inside the root as the container resolves them", () => {
  const cases: [string, string][] = [
    ["/etc/passwd", "usr/lib/passwd"],
    ["/etc/lib/passwd", "usr/lib/passwd"],
    ["/etc/escape", "etc/shadow-of-host"],
    ["/up/passwd", "usr/lib/passwd"], // ".." stops at the root
    ["/../../etc/passwd", "usr/lib/passwd"],
    ["/missing/x", "missing/x"],
  ];
  for (const [p, want] of cases) assert.equal(resolveInRoot(root, p), path.join(root, want), p);
  assert.throws(() => resolveInRoot(root, "/loop"), /too many levels of symbolic links/);
});

test("reading a file of the image, and the view sandbox planning uses", () => {
  assert.equal(readInRoot(root, "/etc/passwd"), "image's\n");
  assert.equal(readInRoot(root, "/etc/group"), undefined);
  const view = rootView(root);
  assert.equal(view.realpath("/etc/lib"), "/usr/lib");
  assert.equal(view.readlink("/etc/passwd"), "/usr/lib/passwd");
  assert.ok(view.exists("/etc/lib/passwd"));
  assert.ok(!view.exists("/etc/escape/x"));
  assert.ok(view.isDirectory("/usr"));
});
