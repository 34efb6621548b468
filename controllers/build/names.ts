// Deterministic names and label values derived from a Build's name.
import { createHash } from "node:crypto";

const MAX_NAME = 253;

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 10);
  return `${text.slice(0, max - 11).replace(/[-.]+$/, "")}-${hash}`;
}

/** The build pod's name: one per Build, so a second create finds the first (AlreadyExists → adopt). */
export function podName(buildName: string): string {
  return shorten(`${buildName}-pod`, MAX_NAME);
}

export { labelValue } from "../../api/new-build.ts";
