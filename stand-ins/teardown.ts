// Stops what a test started, in order, every step even when an earlier one throws (the fake GitHub's
// stop() throws on drift, and a cluster left running would keep the test process alive); then throws
// the first error, so the failure is still reported.
export async function stopAll(...steps: Array<(() => unknown) | undefined>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step?.();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, "several teardown steps failed");
}
