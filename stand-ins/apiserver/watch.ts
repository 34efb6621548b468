// WATCH over HTTP: newline-delimited JSON events, replay from a resourceVersion out of the collection's
// history (an ERROR event with 410 Expired when it is gone, as kube sends), initial events for "" / "0",
// sendInitialEvents with the initial-events-end bookmark, periodic BOOKMARKs, and timeoutSeconds.
import { type ApiError, badRequest, gone, tooLargeResourceVersion } from "./errors.ts";
import { deliver, type EventType, type KubeObject, type Store, type Watcher } from "./storage.ts";

/** What handlers need of a response, common to HTTP/1.1 and HTTP/2 (compat API). */
export interface Response {
  writeHead(code: number, headers?: Record<string, string | string[]>): unknown;
  write(chunk: string | Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  on(event: "close" | "error", listener: () => void): unknown;
  once(event: "drain", listener: () => void): unknown;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  /** HTTP/1.1 only: send the status line and headers now rather than with the first chunk. */
  flushHeaders?(): void;
}

export interface WatchOptions {
  store: Store;
  collection: string;
  namespace?: string;
  matches(o: KubeObject): boolean;
  /** Turns a stored object into what this client asked for (version, Table row, metadata). */
  render(o: KubeObject, type: EventType | "BOOKMARK"): unknown;
  /** apiVersion/kind of bookmark objects. */
  bookmarkObject(rv: string, initialEventsEnd: boolean): unknown;
  query: URLSearchParams;
  bookmarkIntervalMs: number;
  contentType: string;
  /** Called when the watch ends, however it ends. */
  onEnd?(): void;
}

function parseTimeout(query: URLSearchParams): number {
  const text = query.get("timeoutSeconds");
  if (text === null || text === "") return 1800;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid timeoutSeconds: ${text}`);
  // kube takes 0 as "not set" (its default), not as a watch that ends at once.
  return n === 0 ? 1800 : n;
}

export function serveWatch(res: Response, o: WatchOptions): void {
  const { store, query } = o;
  const rvText = query.get("resourceVersion") ?? "";
  const timeoutSeconds = parseTimeout(query);
  const bookmarks = ["1", "true"].includes(query.get("allowWatchBookmarks") ?? "");
  const sendInitialText = query.get("sendInitialEvents");
  const sendInitial = sendInitialText === "true" || sendInitialText === "1";
  const match = query.get("resourceVersionMatch") ?? "";
  if (sendInitialText !== null) {
    if (!bookmarks && sendInitial)
      throw badRequest("sendInitialEvents is forbidden for watch unless allowWatchBookmarks=true");
    if (match !== "NotOlderThan")
      throw badRequest("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
  } else if (match !== "") {
    // kube refuses it rather than ignoring it: a client relying on it would misread the stream.
    throw badRequest("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
  }
  const collection = store.collection(o.collection);
  const replay: { type: EventType; object: KubeObject }[] = [];
  let streamError: ApiError | undefined;
  const initial = sendInitial || (sendInitialText === null && (rvText === "" || rvText === "0"));
  if (initial) {
    for (const obj of collection.list(o.namespace))
      if (o.matches(obj)) replay.push({ type: "ADDED", object: obj });
  } else if (rvText !== "" && rvText !== "0") {
    const rv = Number(rvText);
    if (!Number.isInteger(rv) || rv < 0) throw badRequest(`invalid resource version: ${rvText}`);
    const events = collection.eventsSince(rv);
    // Both in the stream, as kube sends errors found after the request was accepted. A resourceVersion
    // from the future (another server's, before a restart) must not quietly become "from now".
    if (rv > store.resourceVersion) streamError = tooLargeResourceVersion(rv, store.resourceVersion);
    else if (!events) streamError = gone(`too old resource version: ${rv} (${collection.compactedRV + 1})`);
    else {
      // The same in/out-of-selection rules as live delivery.
      const probe: Watcher = {
        namespace: o.namespace,
        matches: o.matches,
        send: (type, object) => replay.push({ type, object }),
      };
      for (const e of events) deliver(probe, e);
    }
  }

  res.writeHead(200, { "content-type": o.contentType, "cache-control": "no-cache, private" });
  // As kube does: the client learns the watch is established before any event (a quiet collection
  // would otherwise leave it waiting for the response).
  res.flushHeaders?.();
  const write = (type: string, object: unknown) => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  if (streamError) {
    write("ERROR", streamError.toStatus());
    res.end();
    o.onEnd?.();
    return;
  }

  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  const watcher: Watcher = {
    namespace: o.namespace,
    matches: o.matches,
    send: (type, object) => write(type, o.render(object, type)),
    close: () => finish(),
  };
  const finish = () => {
    if (ended) return;
    ended = true;
    collection.watchers.delete(watcher);
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
    o.onEnd?.();
  };
  collection.watchers.add(watcher);
  for (const e of replay) write(e.type, o.render(e.object, e.type));
  if (sendInitial) write("BOOKMARK", o.bookmarkObject(String(store.resourceVersion), true));
  if (bookmarks && o.bookmarkIntervalMs > 0) {
    const tick = () => {
      write("BOOKMARK", o.bookmarkObject(String(store.resourceVersion), false));
      timers[0] = setTimeout(tick, o.bookmarkIntervalMs);
    };
    timers[0] = setTimeout(tick, o.bookmarkIntervalMs);
  }
  timers[1] = setTimeout(finish, timeoutSeconds * 1000);
  res.on("close", finish);
  res.on("error", finish);
}
