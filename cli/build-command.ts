// `kiln build <repository> [branch|tag|sha]`: a Build of one commit, asked for by hand; prints its name.
import { revisionRef } from "../api/build.ts";
import { parseDuration } from "../api/duration.ts";
import { ANNOTATIONS } from "../api/group.ts";
import { manualBuildName, newBuild } from "../api/new-build.ts";
import { cloneURL } from "../api/repository.ts";
import { builds } from "../lib/kube-objects.ts";
import { expectPositionals, parseCommand, UsageError } from "./args.ts";
import { CONNECTION_HELP, EXIT, runCommand } from "./command.ts";
import { CliError } from "./errors.ts";
import { resolveTarget } from "./git-refs.ts";
import { getRepository, requester } from "./kube.ts";

export const HELP = `Usage: kiln build <repository> [branch | tag | sha] [options]

Creates a Build of one commit of a Repository (trigger: manual) and prints its name, so
  kiln logs -f "$(kiln build api main)"
builds main and follows it to the end.

  branch or tag   its head commit, as \`git ls-remote\` of the Repository's clone URL says, run here with
                  your own git credentials (on a terminal git may ask, as for a clone). Kiln's token Secret
                  is not read: resolving a branch needs no more than cloning the repository does.
  sha             a full 40-character commit sha, built as it is (no git needed); it has no branch, so
                  steps with when.branches are skipped
  (nothing)       the head of the repository's default branch

Options:
      --pause-on-failure    keep the build's pod at a failed step (then: kiln exec <build>)
      --timeout <duration>  deadline of the whole build, pauses included (default 1h), like 30m

${CONNECTION_HELP}`;

const OPTIONS = {
  "pause-on-failure": { type: "boolean" },
  timeout: { type: "string" },
} as const;

export function parse(args: readonly string[]) {
  const parsed = parseCommand(args, OPTIONS);
  const [repository, wanted] = expectPositionals(
    parsed,
    1,
    2,
    "a repository: kiln build <repository> [branch|sha]",
  );
  const timeout = parsed.values.timeout;
  if (timeout !== undefined && parseDuration(timeout) === undefined)
    throw new UsageError(`--timeout "${timeout}" is not a duration: write it like 90s, 10m or 1h30m`);
  return {
    ...parsed,
    repository: repository!,
    wanted,
    pauseOnFailure: parsed.values["pause-on-failure"] === true,
    timeout,
  };
}

export function main(args: string[]): Promise<number> {
  return runCommand(
    "build",
    HELP,
    {
      parse,
      async run(o, session, io) {
        const repository = await getRepository(session, o.repository);
        const target = await resolveTarget(o.wanted, cloneURL(repository), process.stdin.isTTY === true);
        const name = manualBuildName(o.repository, target.sha);
        const ref = revisionRef(target);
        const body = newBuild({
          name,
          repository,
          revision: { ...target, ...(ref ? { ref } : {}) },
          trigger: { event: "manual" },
          annotations: { [ANNOTATIONS.requestedBy]: await requester(session) },
          spec: {
            ...(o.pauseOnFailure ? { pauseOnFailure: true } : {}),
            ...(o.timeout ? { timeout: o.timeout } : {}),
          },
        });
        if ((await builds(session.client).create(session.namespace, body)) === "exists")
          throw new CliError(`a build named ${name} exists already; run the command again`);
        const of = target.branch ?? target.tag ?? "commit";
        io.err.write(`Building ${of} ${target.sha.slice(0, 7)} of ${o.repository}: kiln logs -f ${name}\n`);
        io.out.write(`${name}\n`);
        return EXIT.ok;
      },
    },
    args,
  );
}
