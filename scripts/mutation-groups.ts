// What `npm run mutate` mutates, and which tests judge each mutant: the pure decision modules, each group
// with only the test files that cover it, so one run stays short. Not part of `npm test` or CI.

export interface MutationGroup {
  /** `npm run mutate -- <name>` runs this group alone. */
  name: string;
  /** Source files whose mutants are made. */
  mutate: string[];
  /** Test files run (in one `node --test` process) against every mutant. */
  tests: string[];
  /** Left out of a plain `npm run mutate` (named on the command line it runs anyway). */
  disabled?: string;
}

export const MUTATION_GROUPS: MutationGroup[] = [
  {
    name: "webhook-signature",
    mutate: ["webhook/verify-signature.ts"],
    tests: [
      "webhook/verify-signature.test.ts",
      "webhook/no-webhook-secret.test.ts",
      "webhook/create-app.test.ts",
    ],
  },
  {
    name: "build-queueing",
    mutate: ["controllers/build/queueing.ts"],
    tests: ["controllers/build/queueing.test.ts", "controllers/build/queueing-order.test.ts"],
  },
  {
    name: "build-decide",
    mutate: [
      "controllers/build/decide.ts",
      "controllers/build/start-decision.ts",
      "controllers/build/pod-status.ts",
      "controllers/build/push-order.ts",
    ],
    tests: ["controllers/build/decide.test.ts", "controllers/build/push-order.test.ts"],
  },
  {
    name: "reporting-owed",
    mutate: ["controllers/reporting/owed.ts"],
    tests: ["controllers/reporting/owed.test.ts", "controllers/reporting/owed-edges.test.ts"],
  },
  {
    name: "reporting-chat-queue",
    mutate: ["controllers/reporting/retry-policy.ts", "controllers/reporting/chat-queue.ts"],
    tests: ["controllers/reporting/retry-policy.test.ts", "controllers/reporting/chat-queue.test.ts"],
  },
  {
    name: "agent-manifest",
    mutate: ["agent/manifest.ts", "agent/manifest-schema.ts"],
    tests: ["agent/manifest.test.ts", "agent/manifest-errors.test.ts"],
  },
];
