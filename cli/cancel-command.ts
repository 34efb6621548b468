// `kiln cancel <build>`: spec.cancel, as the chat's /cancel sets it (api/build-requests.ts).
import { cancelPatch, cancelRefusal } from "../api/build-requests.ts";
import { builds } from "../lib/kube-objects.ts";
import { expectPositionals, parseCommand } from "./args.ts";
import { CONNECTION_HELP, EXIT, runCommand } from "./command.ts";
import { CliError } from "./errors.ts";
import { findBuild, requester } from "./kube.ts";

export const HELP = `Usage: kiln cancel <build> [options]

Stops a build: sets spec.cancel (and kiln.dev/requested-by); the build controller deletes its pod and
records it Cancelled. <build> is a Build's name, the start of one, a repository (its newest build) or
the start of a commit sha. A build already over is an error (exit 1); one being cancelled already is not.

${CONNECTION_HELP}`;

export function parse(args: readonly string[]) {
  const parsed = parseCommand(args, {});
  const [build] = expectPositionals(parsed, 1, 1, "a build: kiln cancel <build>");
  return { ...parsed, build: build! };
}

export function main(args: string[]): Promise<number> {
  return runCommand(
    "cancel",
    HELP,
    {
      parse,
      async run(o, session, io) {
        const build = await findBuild(session, o.build);
        const name = build.metadata.name!;
        const refused = cancelRefusal(build);
        if (refused?.reason === "finished") throw new CliError(`${name} is already over (${refused.phase})`);
        if (refused?.reason === "cancelling") {
          io.out.write(`${name} is being cancelled already.\n`);
          return EXIT.ok;
        }
        await builds(session.client).patch(
          build.metadata.namespace!,
          name,
          cancelPatch(await requester(session)),
        );
        io.out.write(`Cancelling ${name}.\n`);
        return EXIT.ok;
      },
    },
    args,
  );
}
