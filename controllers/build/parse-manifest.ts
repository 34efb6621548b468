// The controller's reading of .kiln.yaml: only what the pod needs (the build image and the services),
// each error located as file:line:column. The agent validates the whole pipeline inside the pod and
// records a located error as the ".kiln.yaml" step; the two agree on the fields read here.
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { ParsedManifest } from "./manifest-source.ts";
import type { PodPipeline } from "./pipeline.ts";

const name = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/,
    "a lowercase name of letters, digits and dashes (at most 42)",
  );
const port = z.int().min(1).max(65535);
const command = z.union([
  z
    .string()
    .min(1)
    .transform((s) => ["sh", "-c", s]),
  z.array(z.string()).min(1),
]);

const service = z.looseObject({
  name,
  image: z.string().min(1),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  ports: z.array(port).optional(),
  command: command.optional(),
  readiness: z.object({ port: port.optional(), command: command.optional() }).optional(),
});

const manifest = z.looseObject({
  image: z.string().min(1, "the build image must not be empty"),
  services: z.array(service).default([]),
});

export function parseManifest(text: string, file: string): ParsedManifest {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    return { ok: false, reason: "InvalidManifest", message: `${at(e.pos[0])}: ${e.message.split("\n")[0]}` };
  }
  const data = doc.toJS() as unknown;
  if (data === null || data === undefined) {
    return { ok: false, reason: "InvalidManifest", message: `${file}: the file is empty` };
  }
  const parsed = manifest.safeParse(data);
  if (parsed.success) {
    const services = parsed.data.services.map((s) => ({
      name: s.name,
      image: s.image,
      env: s.env,
      ports: s.ports,
      command: s.command,
      readiness: s.readiness,
    }));
    const duplicate = services.find((s, i) => services.findIndex((o) => o.name === s.name) !== i);
    if (duplicate) {
      return {
        ok: false,
        reason: "InvalidManifest",
        message: `${file}: two services are named "${duplicate.name}"`,
      };
    }
    const pipeline: PodPipeline = { image: parsed.data.image, services };
    return { ok: true, pipeline };
  }
  const issue = parsed.error.issues[0]!;
  // Point at the deepest node of the path that exists in the document.
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: [number] } | null)?.range?.[0];
  for (const key of issue.path) {
    if (isMap(node)) node = node.get(key as string, true);
    else if (isSeq(node)) node = node.get(key as number, true);
    else break;
    const range = (node as { range?: [number] } | undefined)?.range;
    if (range) offset = range[0];
  }
  const where = issue.path.length ? issue.path.join(".") : "the file";
  const what = issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
  return { ok: false, reason: "InvalidManifest", message: `${at(offset)}: ${where}: ${what}` };
}
