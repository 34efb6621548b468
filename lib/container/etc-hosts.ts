// The /etc/hosts a container of a pod gets from the kubelet.

/** The hosts file the kubelet writes for a pod (pkg/kubelet/kubelet_pods.go managedHostsFileContent). */
export function etcHosts(podIP: string, hostname: string): string {
  return [
    "# Kubernetes-managed hosts file.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
    `${podIP}\t${hostname}`,
    "",
  ].join("\n");
}
