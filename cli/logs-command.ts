// `kiln logs <build> [-f] [--step name]`: the steps' output, which is the build container's log (the
// agent copies every step's output there under its header; api/pod-protocol.ts).
import { StringDecoder } from "node:string_decoder";
import { type Build, isFinished } from "../api/build.ts";
import { CONTAINERS, MANIFEST_STEP } from "../api/pod-protocol.ts";
import { resourcePath } from "../lib/kube.ts";
import { httpStatus, isNotFound } from "../lib/kube-errors.ts";
import { expectPositionals, parseCommand } from "./args.ts";
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
commit sha.

Options:
  -f, --follow              wait for the build's pod and follow the output until the build is over; the
                            exit code is then the build's: 0 Succeeded, 1 anything else
      --step <name>         only that step's output

${CONNECTION_HELP}`;

const OPTIONS = { follow: { type: "boolean", short: "f" }, step: { type: "string" } } as const;

export function parse(args: readonly string[]) {
  const parsed = parseCommand(args, OPTIONS);
  const [build] = expectPositionals(parsed, 1, 1, "a build: kiln logs <build>");
  return { ...parsed, build: build!, follow: parsed.values.follow === true, step: parsed.values.step };
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
        const build = await findBuild(session, o.build);
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
