// The frame of every people command: parse, --help, open the session, run, and turn what went wrong into
// a message and an exit code — 0 done, 1 a failure (not found, forbidden, the build failed …), 2 usage.
import { type Connection, UsageError } from "./args.ts";
import { CliError, explain } from "./errors.ts";
import { openSession, type Session } from "./session.ts";

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The options every command's help ends with. */
export const CONNECTION_OPTIONS_HELP = `Connection (as kubectl's flags):
      --kubeconfig <file>   kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)
      --context <name>      kubeconfig context to use (default: its current context)
  -n, --namespace <name>    namespace of the Builds (default: the context's namespace, else default)
  -h, --help                this help`;

/** The help's last part: the connection options and what the exit codes mean. */
export const CONNECTION_HELP = `${CONNECTION_OPTIONS_HELP}

Exit codes: 0 done, 1 failed (the build failed, not found, forbidden, no cluster), 2 wrong usage.`;

export interface CommandIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export const stdio: CommandIO = { out: process.stdout, err: process.stderr };

export interface Invocation<P> {
  parse(args: readonly string[]): P & { connection: Connection };
  run(parsed: P, session: Session, io: CommandIO): Promise<number>;
}

/** -h or --help anywhere before `--`, whatever else is wrong with the arguments, as kubectl has it. */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "-h" || a === "--help");
}

/** Runs a command: its help on -h, exit 2 with a hint on a usage error, exit 1 with the reason on a failure. */
export async function runCommand<P>(
  name: string,
  help: string,
  command: Invocation<P>,
  args: readonly string[],
  io: CommandIO = stdio,
): Promise<number> {
  let session: Session | undefined;
  try {
    if (wantsHelp(args)) {
      io.out.write(`${help}\n`);
      return EXIT.ok;
    }
    const parsed = command.parse(args);
    session = openSession(parsed.connection);
    return await command.run(parsed, session, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(
        `kiln ${name}: ${error.message}\n${help.split("\n")[0]}\nRun kiln ${name} --help for more.\n`,
      );
      return EXIT.usage;
    }
    io.err.write(`kiln ${name}: ${explain(error, session?.server ?? "")}\n`);
    return error instanceof CliError ? error.exitCode : EXIT.failure;
  } finally {
    session?.close();
  }
}
