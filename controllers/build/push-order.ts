// The order of a branch's pushes, oldest first, as the pushes themselves tell it: a push whose `before` is
// another's sha came after that one (GitHub's push chain); pushes the chain does not link (force pushes,
// builds made by hand) go by when the webhook received them, then by creation time, then by name. Names
// never decide between two linked pushes, however close together they came. A pure function of the
// Builds' specs and metadata, so every replica orders alike.
import type { Build } from "../../api/build.ts";

/** When the build came to be: the webhook's arrival time, else its creation (one-second resolution). */
function arrival(build: Build): number {
  const at = Date.parse(build.spec.trigger.receivedAt ?? build.metadata.creationTimestamp ?? "");
  return Number.isNaN(at) ? 0 : at;
}

const compare = (x: number | string, y: number | string) => (x < y ? -1 : x > y ? 1 : 0);

/** The order used where the push chain says nothing: arrival, creation time, name. Total. */
export function byArrival(a: Build, b: Build): number {
  return (
    compare(arrival(a), arrival(b)) ||
    compare(a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? "") ||
    compare(a.metadata.name ?? "", b.metadata.name ?? "")
  );
}

/**
 * The builds oldest first. A build goes after every build whose sha is its `before` (Kahn's topological
 * order over those links); among the builds free to go next, the earliest by arrival goes first; a cycle
 * (a force push back to an older sha) is broken the same way.
 */
export function pushOrder(builds: readonly Build[]): Build[] {
  const sorted = [...builds].sort(byArrival);
  const bySha = new Map<string, number[]>();
  sorted.forEach((b, i) => {
    const list = bySha.get(b.spec.revision.sha) ?? [];
    list.push(i);
    bySha.set(b.spec.revision.sha, list);
  });
  // waitingFor[i]: how many builds i must come after; children[j]: the builds that come after j.
  const waitingFor = sorted.map(() => 0);
  const children = sorted.map((): number[] => []);
  sorted.forEach((b, i) => {
    for (const j of bySha.get(b.spec.revision.before ?? "") ?? []) {
      if (j === i) continue;
      waitingFor[i]!++;
      children[j]!.push(i);
    }
  });
  // Unplaced builds in arrival order: the first with nothing left to wait for goes next; in a cycle,
  // the first of them.
  const unplaced = new Set(sorted.keys());
  const out: Build[] = [];
  while (unplaced.size > 0) {
    let next = unplaced.values().next().value!;
    for (const i of unplaced) {
      if (waitingFor[i] === 0) {
        next = i;
        break;
      }
    }
    unplaced.delete(next);
    out.push(sorted[next]!);
    for (const child of children[next]!) waitingFor[child]!--;
  }
  return out;
}
