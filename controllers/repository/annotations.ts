// Annotations the repository controller keeps on a Repository.
import { GROUP } from "../../api/group.ts";

/** Fingerprint of the secret the webhook was last given (GitHub never shows it back). */
export const ANNOTATIONS_WEBHOOK_SECRET = `${GROUP}/webhook-secret-fingerprint`;
