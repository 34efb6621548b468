// Decodes a delivery body. GitHub sends JSON either as is (content type application/json) or as the
// `payload` field of a form (application/x-www-form-urlencoded); both are signed over the raw bytes.
import { HttpError } from "../lib/http-error.ts";

// fatal: invalid UTF-8 is an error, never silently replaced; ignoreBOM: keep every byte, so the text
// encodes back to exactly the bytes that were signed.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function decodeBody(raw: Uint8Array): string {
  try {
    return decoder.decode(raw);
  } catch {
    throw new HttpError(400, "request body is not valid UTF-8");
  }
}

export function parsePayload(text: string, contentType: string | undefined): unknown {
  const type = (contentType ?? "application/json").split(";")[0]!.trim().toLowerCase();
  let json: string;
  if (type === "application/json") {
    json = text;
  } else if (type === "application/x-www-form-urlencoded") {
    const field = new URLSearchParams(text).get("payload");
    if (field === null) throw new HttpError(400, "form body has no payload field");
    json = field;
  } else {
    throw new HttpError(415, `unsupported content type ${type}; use application/json`);
  }
  try {
    return JSON.parse(json) as unknown;
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
}
