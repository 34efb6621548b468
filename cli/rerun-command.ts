// `kiln rerun <build>`: a new Build of the same commit, as the chat's /rerun makes it (api/new-build.ts).
import { manualBuildName, rerunOf } from "../api/new-build.ts";
import { builds } from "../lib/kube-objects.ts";
import { expectPositionals, parseCommand } from "./args.ts";
import { CONNECTION_HELP, EXIT, runCommand } from "./command.ts";
import { CliError } from "./errors.ts";
import { findBuild, repositoryOf, requester } from "./kube.ts";

export const HELP = `Usage: kiln rerun <build> [options]

Builds the commit of <build> again: a new Build (trigger: manual) with the same revision, pauseOnFailure
and timeout, annotated kiln.dev/rebuild-of and kiln.dev/requested-by; prints its name. <build> is a
Build's name, the start of one, a repository (its newest build) or the start of a commit sha.

Options:
      --approve             a pull request from a fork waits for an approval: give it (kiln.dev/approved-by)

${CONNECTION_HELP}`;

export function parse(args: readonly string[]) {
  const parsed = parseCommand(args, { approve: { type: "boolean" } });
  const [build] = expectPositionals(parsed, 1, 1, "a build: kiln rerun <build>");
  return { ...parsed, build: build!, approve: parsed.values.approve === true };
}

export function main(args: string[]): Promise<number> {
  return runCommand(
    "rerun",
    HELP,
    {
      parse,
      async run(o, session, io) {
        const original = await findBuild(session, o.build);
        const repository = await repositoryOf(session, original);
        const name = manualBuildName(original.spec.repository, original.spec.revision.sha);
        const body = rerunOf(original, repository, name, await requester(session), o.approve);
        if ((await builds(session.client).create(original.metadata.namespace!, body)) === "exists")
          throw new CliError(`a build named ${name} exists already; run the command again`);
        io.err.write(`Rerunning ${original.metadata.name}: kiln logs -f ${name}\n`);
        io.out.write(`${name}\n`);
        return EXIT.ok;
      },
    },
    args,
  );
}
