// Deterministic names and label values derived from a Build's name.
import { createHash } from "node:crypto";

const MAX_NAME = 253;
const MAX_LABEL = 63;

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 10);
  return `${text.slice(0, max - 11).replace(/[-.]+$/, "")}-${hash}`;
}

/** The build pod's name: one per Build, so a second create finds the first (AlreadyExists → adopt). */
export function podName(buildName: string): string {
  return shorten(`${buildName}-pod`, MAX_NAME);
}

/** A label value (at most 63 characters, alphanumeric at both ends) standing for text. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (cleaned === text && text.length <= MAX_LABEL) return text;
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 10);
  const head = cleaned.slice(0, MAX_LABEL - 11).replace(/[^A-Za-z0-9]+$/, "");
  return head ? `${head}-${hash}` : hash;
}
