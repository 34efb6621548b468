// `kiln logs <build> [-f] [--step name]`: the steps' output, which is the build container's log (the
// agent copies every step's output there under its header; api/pod-protocol.ts).
import { StringDecoder } from "node:string_decoder";
import { type Build, isFinished, type StepStatus } from "../api/build.ts";
import { CONTAINERS, MANIFEST_STEP, stepHeader } from "../api/pod-protocol.ts";
import { readBuildLog } from "../lib/build-log.ts";
import { resourcePath } from "../lib/kube.ts";
import { httpStatus, isNotFound } from "../lib/kube-errors.ts";
import { StoreClient } from "../lib/store-client.ts";
import { expectPositionals, parseCommand, UsageError } from "./args.ts";
import { BuildWatch } from "./build-watch.ts";
import { CONNECTION_HELP, type CommandIO, EXIT, runCommand } from "./command.ts";
import { CliError, explain } from "./errors.ts";
import { stepsSummary } from "./format.ts";
import { findBuild, getPod } from "./kube.ts";
import type { Session } from "./session.ts";
import { StepFilter } from "./step-log.ts";

export const HELP = `Usage: kiln logs <build> [-f] [--step <name>] [options]

Prints what the steps of a build printed (its build container's log, each step under a "==> <step>"
line). <build> is a Build's name, the start of one, a repository (its newest build) or the start of a
commit sha. With a store (--store or KILN_STORE_URL: kiln store, which keeps logs after the pod and the
Build are gone), the log is read there, live or finished; else from the build's pod while it exists.

Options:
  -f, --follow              wait for the build's pod and follow the output until the build is over; the
                            exit code is then the build's: 0 Succeeded, 1 anything else
      --step <name>         only that step's output
      --store <url>         kiln store's URL [KILN_STORE_URL], e.g. after
                            kubectl -n kiln port-forward svc/kiln-store 8081:80: http://127.0.0.1:8081
                            (your kubeconfig's bearer token is sent; the store must accept its audience)

${CONNECTION_HELP}`;

const OPTIONS = {
  follow: { type: "boolean", short: "f" },
  step: { type: "string" },
  store: { type: "string" },
} as const;

export function parse(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseCommand(args, OPTIONS);
  const [build] = expectPositionals(parsed, 1, 1, "a build: kiln logs <build>");
  const store = parsed.values.store ?? (env.KILN_STORE_URL || undefined);
  if (store !== undefined && !URL.canParse(store))
    throw new UsageError(`--store: "${store}" is not a URL (say http://127.0.0.1:8081)`);
  if (store !== undefined && !safeForToken(new URL(store)))
    throw new UsageError(
      `--store: ${store} would get your kubeconfig's token in the clear: use https, or http to this machine (a port-forward)`,
    );
  return { ...parsed, build: build!, follow: parsed.values.follow === true, step: parsed.values.step, store };
}

/** The kubeconfig's token goes only over TLS or to this machine (kubectl port-forward). */
function safeForToken(url: URL): boolean {
  if (url.protocol === "https:") return true;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return url.protocol === "http:" && (host === "localhost" || host === "::1" || /^127\./.test(host));
}

/** The store's client with the kubeconfig's own credentials: a bearer token (a reader's). */
function storeOf(session: Session, url: string): StoreClient {
  return new StoreClient({
    url,
    token: async () => {
      // What client-node sends the API server: a static token, a token file, an exec plugin's.
      const options: { headers?: Record<string, string | string[] | number | undefined> } = {};
      await session.kubeConfig.applyToHTTPSOptions(options);
      const auth = String(options.headers?.Authorization ?? options.headers?.authorization ?? "");
      if (!auth.startsWith("Bearer "))
        throw new CliError(
          "the store takes a bearer token, and this kubeconfig's user has none (client certificates?)",
        );
      return auth.slice("Bearer ".length);
    },
  });
}

/** A step with output: it began (a skipped one, or one cancelled before it ran, never printed). */
const printedSomething = (s: StepStatus) => s.startTime !== undefined && s.phase !== "Skipped";

/** Prints the log from the store; false when the store has none of this Build (a build before it). */
async function printFromStore(store: StoreClient, build: Build, step: string | undefined, io: CommandIO) {
  const ref = { namespace: build.metadata.namespace!, build: build.metadata.name! };
  const order = stepNames(build);
  const log = await readBuildLog(store, ref, {
    ...(step === undefined ? {} : { step }),
    ...(order ? { order } : {}),
  });
  if (!log) return false;
  const printer = new Printer(io.out, undefined, () => undefined);
  let last = 10;
  for await (const chunk of log) {
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    await printer.print(chunk);
  }
  await printer.end();
  // A last line left open ends here, as the build container's log ends it.
  if (last !== 10) await write(io.out, "\n");
  return true;
}

/** How long a finished build's last step log may still be completing (the agent ships it at its end). */
const SETTLE_MS = 15_000;

/** Follows the log in the store, step after step as the Build records them, until the build is over. */
async function followFromStore(
  session: Session,
  store: StoreClient,
  first: Build,
  step: string | undefined,
  io: CommandIO,
): Promise<number> {
  const ref = { namespace: first.metadata.namespace!, build: first.metadata.name! };
  const watch = new BuildWatch(session, ref.namespace, ref.build);
  const printer = new Printer(io.out, undefined, () => undefined);
  try {
    for (let i = 0; ; i++) {
      // The i-th step once it began, or the build's end.
      const build = await watch.until((b) => {
        const s = b.status?.steps?.[i];
        return (s && printedSomething(s)) || isFinished(b.status?.phase) ? b : undefined;
      });
      const record = build.status?.steps?.[i];
      if (!record) {
        await printer.end();
        io.err.write(`${outcome(build)}
`);
        return exitCodeOf(build);
      }
      if (!printedSomething(record) || (step !== undefined && record.name !== step)) continue;
      if (step === undefined) await printer.print(Buffer.from(stepHeader(record.name)));
      const stop = new AbortController();
      // Once the build is over, its logs complete within moments; a log that never does (its agent was
      // killed) must not hold the command forever.
      void watch
        .until((b) => (isFinished(b.status?.phase) ? b : undefined))
        .then(
          () => setTimeout(() => stop.abort(), SETTLE_MS).unref(),
          () => undefined,
        );
      for await (const chunk of store.followLog({ ...ref, step: record.name }, { signal: stop.signal }))
        await printer.print(chunk);
      stop.abort();
    }
  } finally {
    watch.stop();
  }
}

const stepNames = (build: Build | undefined) => build?.status?.steps?.map((s) => s.name);

/** How a finished build ended, for the last line of `-f`. */
export function outcome(build: Build): string {
  const phase = build.status?.phase ?? "Queued";
  const took = build.status?.duration ? ` after ${build.status.duration}` : "";
  const message = build.status?.message ? `: ${build.status.message}` : "";
  return `${build.metadata.name} ${phase}${took}${message}`;
}

export const exitCodeOf = (build: Build) => (build.status?.phase === "Succeeded" ? EXIT.ok : EXIT.failure);

/** Writes, waiting when the reader is slow (a pager), so a long log never piles up in memory. */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text && !out.write(text)) await new Promise((resolve) => out.once("drain", resolve));
}

/** The output a step filter (or none) lets through, written as the log comes. */
class Printer {
  readonly #out: NodeJS.WritableStream;
  readonly #filter: StepFilter | undefined;
  #decoder = new StringDecoder("utf8");
  constructor(out: NodeJS.WritableStream, step: string | undefined, names: () => string[] | undefined) {
    this.#out = out;
    this.#filter = step === undefined ? undefined : new StepFilter(step, names);
  }
  print(bytes: Buffer): Promise<void> {
    const text = this.#decoder.write(bytes);
    return write(this.#out, this.#filter ? this.#filter.push(text) : text);
  }
  end(): Promise<void> {
    const text = this.#decoder.end();
    return write(this.#out, this.#filter ? this.#filter.push(text) + this.#filter.end() : text);
  }
}

type StreamEnd = "ended" | "not-started" | "gone";

/**
 * Streams the build container's log into `printer`, leaving out the first `skip` bytes (already printed
 * before a dropped connection). How it ended: the log was over, the container has not started, or the pod
 * is not there.
 */
async function streamLog(
  session: Session,
  namespace: string,
  pod: string,
  options: { follow: boolean; skip: number; printer: Printer; printed: (n: number) => void },
): Promise<StreamEnd> {
  let res: Awaited<ReturnType<Session["client"]["stream"]>>;
  try {
    res = await session.client.stream(`${resourcePath("v1", "pods", namespace, pod)}/log`, {
      container: CONTAINERS.build,
      ...(options.follow ? { follow: true } : {}),
    });
  } catch (error) {
    if (isNotFound(error)) return "gone";
    // 400: the container is waiting to start (or the pod was never scheduled).
    if (httpStatus(error) === 400) return "not-started";
    throw error;
  }
  let skip = options.skip;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    const fresh = skip >= chunk.length ? undefined : chunk.subarray(skip);
    skip = Math.max(0, skip - chunk.length);
    if (!fresh) continue;
    options.printed(fresh.length);
    await options.printer.print(fresh);
  }
  return "ended";
}

async function printOnce(session: Session, build: Build, step: string | undefined, io: CommandIO) {
  const name = build.metadata.name!;
  const pod = build.status?.podName;
  const phase = build.status?.phase ?? "Queued";
  if (!pod)
    throw new CliError(
      `${name} has no pod${build.status?.message ? ` (${phase}: ${build.status.message})` : ` (${phase})`}`,
    );
  const printer = new Printer(io.out, step, () => stepNames(build));
  const ended = await streamLog(session, build.metadata.namespace!, pod, {
    follow: false,
    skip: 0,
    printer,
    printed: () => {},
  });
  if (ended === "gone")
    throw new CliError(
      `the log of ${name} went with its pod ${pod} (${phase}; steps: ${stepsSummary(build.status?.steps)})`,
    );
  if (ended === "not-started")
    throw new CliError(`${name} has not started its steps yet (${phase}): kiln logs -f waits`);
  await printer.end();
}

async function follow(
  session: Session,
  first: Build,
  step: string | undefined,
  io: CommandIO,
): Promise<number> {
  const namespace = first.metadata.namespace!;
  const name = first.metadata.name!;
  const watch = new BuildWatch(session, namespace, name);
  let said: string | undefined;
  watch.onChange((b) => {
    const phase = b.status?.phase;
    if (phase === said) return;
    said = phase;
    if (phase === "Paused") io.err.write(`kiln logs: ${name} is Paused: ${b.status?.message ?? ""}\n`);
  });
  try {
    let pod: string | undefined;
    let printer: Printer | undefined;
    let printed = 0;
    for (;;) {
      const build = await watch.until((b) =>
        b.status?.podName || isFinished(b.status?.phase) ? b : undefined,
      );
      const current = build.status?.podName;
      if (!current || (current === pod && isFinished(build.status?.phase))) {
        await printer?.end();
        io.err.write(`${outcome(build)}\n`);
        return exitCodeOf(build);
      }
      if (current !== pod) {
        if (pod) io.err.write(`kiln logs: ${name} has a new pod, ${current}\n`);
        await printer?.end();
        pod = current;
        printed = 0;
        printer = new Printer(io.out, step, () => stepNames(watch.latest));
      }
      const before = printed;
      const ended = await streamLog(session, namespace, pod, {
        follow: true,
        skip: printed,
        printer: printer!,
        printed: (n) => (printed += n),
      });
      if (ended === "not-started") {
        // The pod is being set up (image pulls, the fetch): look again when the Build moves on, or soon.
        await watch.untilOr(
          (b) => (b.status?.phase !== build.status?.phase || b.status?.podName !== pod ? b : undefined),
          1000,
        );
        continue;
      }
      // The log ended: the container ended (or the pod went); else only the connection did, and we go on.
      const container = (await getPod(session, namespace, pod))?.status?.containerStatuses?.find(
        (c) => c.name === CONTAINERS.build,
      );
      if (ended === "ended" && container?.state?.running) {
        // Only the connection ended: take it up again after the bytes printed (a second's pause if it
        // keeps ending at once, so a proxy that drops it cannot make this spin).
        if (printed === before) await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (ended === "gone" && printed === 0)
        io.err.write(`kiln logs: the log of ${name} went with its pod ${pod}\n`);
      await watch.until((b) => (isFinished(b.status?.phase) || b.status?.podName !== pod ? b : undefined));
    }
  } finally {
    watch.stop();
  }
}

export function main(args: string[]): Promise<number> {
  return runCommand(
    "logs",
    HELP,
    {
      parse,
      async run(o, session, io) {
        // `kiln logs … | head`: the reader is gone, and so is the point of going on.
        io.out.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "EPIPE") process.exit(EXIT.ok);
          io.err.write(`kiln logs: ${explain(error, session.server)}\n`);
        });
        const store = o.store === undefined ? undefined : storeOf(session, o.store);
        let build: Build;
        try {
          build = await findBuild(session, o.build);
        } catch (error) {
          // A Build that is gone may have left its log in the store (under its exact name).
          if (!(store && error instanceof CliError)) throw error;
          const gone = { metadata: { name: o.build, namespace: session.namespace } } as Build;
          try {
            if (!o.follow && (await printFromStore(store, gone, o.step, io))) return EXIT.ok;
          } finally {
            store.close();
          }
          throw error;
        }
        const names = stepNames(build);
        if (o.step !== undefined && names?.length && !names.includes(o.step))
          throw new CliError(
            `${build.metadata.name} has no step "${o.step}" (its steps: ${names.join(", ")})`,
          );
        if (o.step === MANIFEST_STEP) {
          // An unreadable or invalid .kiln.yaml is a step of that name whose message holds the errors.
          const record = build.status?.steps?.find((s) => s.name === MANIFEST_STEP);
          if (record?.message) io.out.write(`${record.message}\n`);
          return EXIT.ok;
        }
        try {
          if (store && o.follow) return await followFromStore(session, store, build, o.step, io);
          if (store && (await printFromStore(store, build, o.step, io))) return EXIT.ok;
        } finally {
          store?.close();
        }
        if (o.follow) return follow(session, build, o.step, io);
        await printOnce(session, build, o.step, io);
        const record = build.status?.steps?.find((s) => s.name === o.step);
        if (record && !["Succeeded", "Failed", "Running", "Paused", "TimedOut"].includes(record.phase))
          io.err.write(
            `kiln logs: step ${record.name} is ${record.phase}${record.message ? `: ${record.message}` : ""}\n`,
          );
        return EXIT.ok;
      },
    },
    args,
  );
}
