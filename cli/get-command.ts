// `kiln get [repository]`: builds, newest first, with their steps.

import { newestFirst } from "../api/build.ts";
import { expectPositionals, parseCommand, positiveInt } from "./args.ts";
import { CONNECTION_HELP, EXIT, runCommand } from "./command.ts";
import { buildTable } from "./format.ts";
import { getRepository, listBuilds } from "./kube.ts";

export const HELP = `Usage: kiln get [repository] [options]

Lists builds (of one Repository, or of the whole namespace), newest first: branch, commit, phase,
duration, age and every step (name:ok, name:failed(<exit code>), name:running, name:skipped …).

Options:
  -A, --all-namespaces      builds of every namespace
      --limit <n>           the newest n builds only

${CONNECTION_HELP}`;

const OPTIONS = {
  "all-namespaces": { type: "boolean", short: "A" },
  limit: { type: "string" },
} as const;

export function parse(args: readonly string[]) {
  const parsed = parseCommand(args, OPTIONS);
  const [repository] = expectPositionals(parsed, 0, 1, "at most a repository");
  const all = parsed.values["all-namespaces"] === true;
  return { ...parsed, repository, all, limit: positiveInt(parsed.values.limit, "limit") };
}

export function main(args: string[]): Promise<number> {
  return runCommand(
    "get",
    HELP,
    {
      parse,
      async run({ repository, all, limit }, session, io) {
        // Builds of a Repository by spec.repository, not by label: a Build written by hand has its labels
        // only once the build controller has seen it.
        if (repository !== undefined && !all) await getRepository(session, repository);
        const builds = (await listBuilds(session, all)).filter(
          (b) => repository === undefined || b.spec.repository === repository,
        );
        if (builds.length === 0) {
          const where = all ? "in any namespace" : `in namespace ${session.namespace}`;
          io.err.write(`No builds${repository ? ` of ${repository}` : ""} ${where}.\n`);
          return EXIT.ok;
        }
        const newest = builds.sort(newestFirst).slice(0, limit);
        const options = { now: Date.now(), namespaces: all, repository: repository !== undefined };
        io.out.write(`${buildTable(newest, options)}\n`);
        return EXIT.ok;
      },
    },
    args,
  );
}
