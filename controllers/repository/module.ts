// The repository controller as one of `kiln controller`'s modules (controllers/main.ts MODULES); its
// flags are config.ts.
import type { ControllerModule } from "../../lib/runtime/module.ts";
import type { ControllerConfig } from "../config.ts";
import { parseRepositoryConfig, REPOSITORY_FLAGS } from "./config.ts";
import { createRepositoryController } from "./controller.ts";

export const repositoryModule: ControllerModule<ControllerConfig> = {
  name: "repository",
  flags: REPOSITORY_FLAGS,
  usage: `Repositories (webhook registration, redelivery, catch-up):
  --webhook-url <url>            where GitHub delivers when spec.webhook.url is unset [KILN_WEBHOOK_URL]
  --repository-interval <d>      how often each Repository is looked at again [KILN_REPOSITORY_INTERVAL] (2m)
  --catch-up-grace <d>           how long a branch head may lack a Build before catch-up [KILN_CATCH_UP_GRACE] (1m)
  --no-build-access              do not keep build access in Repository namespaces [KILN_BUILD_ACCESS=false]:
                                 the agent's ServiceAccount and RoleBinding, the webhook's read of webhook Secrets
  --agent-cluster-role <name>    ClusterRole bound to the agent there [KILN_AGENT_CLUSTER_ROLE] (kiln-build-agent)
  --webhook-service-account <ns:name>  the webhook's account [KILN_WEBHOOK_SERVICE_ACCOUNT] (<KILN_NAMESPACE>:kiln-webhook)
  --no-build-network-policy      no egress NetworkPolicy for build pods [KILN_BUILD_NETWORK_POLICY=false]
`,
  create({ kubeConfig, client, config, log, args, env }) {
    const own = parseRepositoryConfig(args, env);
    return createRepositoryController({
      kubeConfig,
      client,
      log,
      namespaces: config.namespaces,
      apiURL: config.githubApiURL,
      ...(own.webhookURL && { webhookURL: own.webhookURL }),
      ...(own.intervalMs !== undefined && { intervalMs: own.intervalMs }),
      ...(own.graceMs !== undefined && { graceMs: own.graceMs }),
      ...(own.buildAccess && {
        buildAccess: {
          agentServiceAccount: config.agentServiceAccount,
          agentClusterRole: own.agentClusterRole,
          webhook: own.webhookServiceAccount,
          networkPolicy: own.buildNetworkPolicy,
        },
      }),
    });
  },
};
