// `kiln exec <build> [-- command…]`: into the build container of a paused build. Through client-node's
// Exec (pods/exec over WebSocket, the same credentials as every other command, no kubectl needed), with a
// TTY when both ends are a terminal: stdin in raw mode, the window size sent as it changes.
import { Exec, type V1Status } from "@kubernetes/client-node";
import type { Build } from "../api/build.ts";
import { CONTAINERS, KILN_DIR, RESUME_FILE } from "../api/pod-protocol.ts";
import { expectPositionals, parseCommand } from "./args.ts";
import { CONNECTION_OPTIONS_HELP, type CommandIO, runCommand } from "./command.ts";
import { CliError } from "./errors.ts";
import { findBuild } from "./kube.ts";
import type { Session } from "./session.ts";

export const HELP = `Usage: kiln exec <build> [-- <command> [args…]] [options]

Runs a command (default: sh) in the build container of a paused build, where the failed step left the
workspace (/workspace), as \`kubectl exec -it <pod> -c build -- sh\` would. With a terminal on both
ends the session is interactive (a TTY; the window size follows yours); otherwise stdin is passed only
with -i. A running build can be looked into too. Inside, \`touch ${KILN_DIR}/${RESUME_FILE}\` lets a paused
build go on. <build> is a Build's name, the start of one, a repository (its newest build) or the start
of a commit sha.

Options:
  -i, --stdin               pass stdin even when it is not a terminal

${CONNECTION_OPTIONS_HELP}

Exit codes: the command's own once it ran; 1 when it could not (not found, no running build container,
forbidden), 2 wrong usage.`;

export function parse(args: readonly string[]) {
  const parsed = parseCommand(args, { stdin: { type: "boolean", short: "i" } });
  const [build] = expectPositionals(parsed, 1, 1, "a build: kiln exec <build> [-- command]");
  const command = parsed.rest?.length ? parsed.rest : ["sh"];
  return { ...parsed, build: build!, command, stdin: parsed.values.stdin === true };
}

/** The pod to get into: a paused (or running) build's; why not, otherwise. */
export function execTarget(build: Build): string {
  const phase = build.status?.phase ?? "Queued";
  const pod = build.status?.podName;
  if ((phase === "Paused" || phase === "Running") && pod) return pod;
  const when = phase === "Queued" || phase === "Pending" ? "yet" : "any more";
  throw new CliError(`${build.metadata.name} is ${phase}: it has no running build container ${when}`);
}

/** The command's exit code from the Status pods/exec ends with. */
export function exitCodeOf(status: V1Status | undefined): number | undefined {
  if (status?.status === "Success") return 0;
  const cause = status?.details?.causes?.find((c) => c.reason === "ExitCode");
  return cause?.message !== undefined && /^\d+$/.test(cause.message) ? Number(cause.message) : undefined;
}

/** A refused WebSocket upgrade says only its HTTP status: say what it means here. */
function refusal(error: unknown, build: Build, pod: string): CliError {
  const code = /Unexpected server response: (\d+)/.exec(String((error as Error)?.message ?? error))?.[1];
  const ns = build.metadata.namespace;
  if (code === "403")
    return new CliError(
      `forbidden: you may not exec into pod ${pod} (it takes get and create on pods/exec in namespace ${ns})`,
    );
  if (code === "404") return new CliError(`the pod ${pod} of ${build.metadata.name} is gone`);
  if (code === "400") return new CliError(`the build container of ${pod} is not running`);
  if (code === "401")
    return new CliError("the API server does not accept your credentials (401 Unauthorized)");
  return new CliError(`cannot exec into ${pod}: ${(error as Error)?.message ?? error}`);
}

async function execute(session: Session, build: Build, o: ReturnType<typeof parse>, io: CommandIO) {
  const pod = execTarget(build);
  const stdin = process.stdin;
  const tty = stdin.isTTY === true && process.stdout.isTTY === true;
  if (tty && build.status?.phase === "Paused")
    io.err.write(
      `kiln exec: ${build.metadata.name} is paused; \`touch ${KILN_DIR}/${RESUME_FILE}\` lets it go on.\n`,
    );
  let status: V1Status | undefined;
  if (tty) stdin.setRawMode(true);
  try {
    const socket = await new Exec(session.kubeConfig)
      .exec(
        build.metadata.namespace!,
        pod,
        CONTAINERS.build,
        o.command,
        process.stdout,
        // With a TTY the container has one output stream.
        tty ? null : process.stderr,
        tty || o.stdin ? stdin : null,
        tty,
        (s) => (status = s),
      )
      .catch((error: unknown) => {
        throw refusal(error, build, pod);
      });
    await new Promise((resolve) => socket.on("close", resolve));
  } finally {
    if (tty) stdin.setRawMode(false);
    if (tty || o.stdin) stdin.pause();
  }
  const code = exitCodeOf(status);
  if (code === undefined)
    throw new CliError(status?.message ? `exec failed: ${status.message}` : `the connection to ${pod} ended`);
  return code;
}

export function main(args: string[]): Promise<number> {
  return runCommand(
    "exec",
    HELP,
    {
      parse,
      run: async (o, session, io) => execute(session, await findBuild(session, o.build), o, io),
    },
    args,
  );
}
