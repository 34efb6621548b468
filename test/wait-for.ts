// The one polling helper of the integration and end-to-end tests.

/**
 * Polls `probe` until it returns something other than undefined or false and resolves with it. A probe
 * that throws counts as "not yet" (the API may be restarting in the test); on timeout the error names
 * what was awaited and the last error seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
