// The work queue of the server's own controllers (garbage collector, namespace lifecycle, CRD
// cleanup): a burst of store events asking for the same key runs its handler once, on the next turn.

/**
 * Returns `enqueue(key)`; the keys gathered until `schedule` fires are each handled once, in the order
 * they were first asked for. Keys asked for while handling wait for the next turn.
 */
export function coalesce<K>(schedule: (run: () => void) => void, handle: (key: K) => void): (key: K) => void {
  const pending = new Set<K>();
  let scheduled = false;
  return (key) => {
    pending.add(key);
    if (scheduled) return;
    scheduled = true;
    schedule(() => {
      scheduled = false;
      const keys = [...pending];
      pending.clear();
      for (const k of keys) handle(k);
    });
  };
}
