import { describe, test } from "node:test";
import { parseManifest } from "./parse-manifest.ts";

describe("parseManifest", () => {
  test("reads the image and services", (t) => {
    const r = parseManifest(
      "image: node:24\nservices:\n  - {name: postgres, image: postgres:17, env: {POSTGRES_PASSWORD: test, N: 1}, ports: [5432]}\nsteps:\n  - {name: t, run: npm test}\n",
      ".kiln.yaml",
    );
    t.assert.deepEqual(r, {
      ok: true,
      pipeline: {
        image: "node:24",
        services: [
          {
            name: "postgres",
            image: "postgres:17",
            env: { POSTGRES_PASSWORD: "test", N: "1" },
            ports: [5432],
            command: undefined,
            readiness: undefined,
          },
        ],
      },
    });
  });

  const errors: Array<[string, string, RegExp]> = [
    ["YAML syntax", "image: [node\n", /^\.kiln\.yaml:\d+:\d+: /],
    ["missing image", "steps: []\n", /^\.kiln\.yaml:1:1: image: is required/],
    [
      "bad port, located",
      "image: x\nservices:\n  - name: db\n    image: pg\n    ports: [99999]\n",
      /^\.kiln\.yaml:5:13: services\.0\.ports\.0: /,
    ],
    [
      "bad service name",
      "image: x\nservices:\n  - {name: Bad_Name, image: pg}\n",
      /^\.kiln\.yaml:3:12: services\.0\.name: a lowercase name/,
    ],
    ["empty file", "", /^\.kiln\.yaml: the file is empty/],
    [
      "duplicate services",
      "image: x\nservices: [{name: a, image: b}, {name: a, image: c}]\n",
      /two services are named "a"/,
    ],
  ];
  for (const [name, text, message] of errors) {
    test(`error: ${name}`, (t) => {
      const r = parseManifest(text, ".kiln.yaml");
      t.assert.equal(r.ok, false);
      if (!r.ok) t.assert.match(r.message, message);
    });
  }
});
