// kube's printers (pkg/printers/internalversion) for the workload and networking kinds the test server
// serves: Deployment, ReplicaSet, Service, PodDisruptionBudget, Ingress, IngressClass, NetworkPolicy.
// Server-side printing always renders the wide columns (priority 1), as kube-apiserver does.
import { isPlainObject } from "./go-format.ts";
import { age, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN, type TableColumnDefinition } from "./table.ts";

type Obj = Record<string, unknown>;
export type Printer = { columns: TableColumnDefinition[]; cells: (obj: Obj, now: Date) => unknown[] };

const column = (name: string, description: string, priority = 0, type = "string"): TableColumnDefinition => ({
  name,
  type,
  format: "",
  description,
  priority,
});
const AGE = column("Age", CREATION_TIMESTAMP_DESCRIPTION);
const CONTAINERS = column("Containers", "Names of each container in the template.", 1);
const IMAGES = column("Images", "Images referenced by each container in the template.", 1);

const get = (obj: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, key) => (isPlainObject(v) ? v[key] : undefined), obj);
const str = (value: unknown): string => (typeof value === "string" ? value : "");
const int = (value: unknown): number => (typeof value === "number" ? value : 0);
const list = (value: unknown): Obj[] => (Array.isArray(value) ? (value as Obj[]) : []);
const name = (obj: Obj) => str(get(obj, "metadata", "name"));
const created = (obj: Obj, now: Date) => age(get(obj, "metadata", "creationTimestamp"), now);

/** metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key. */
function selectorText(selector: unknown): string {
  if (!isPlainObject(selector)) return "";
  const parts: [string, string][] = [];
  for (const [k, v] of Object.entries((selector.matchLabels as Obj | undefined) ?? {}))
    parts.push([k, `${k}=${v}`]);
  for (const r of list(selector.matchExpressions)) {
    const key = str(r.key);
    const values = (Array.isArray(r.values) ? (r.values as string[]) : []).slice().sort().join(",");
    const text =
      r.operator === "In"
        ? `${key} in (${values})`
        : r.operator === "NotIn"
          ? `${key} notin (${values})`
          : r.operator === "Exists"
            ? key
            : `!${key}`;
    parts.push([key, text]);
  }
  return parts
    .map((p, i) => [p, i] as const)
    .sort(([a, i], [b, j]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : i - j))
    .map(([p]) => p[1])
    .join(",");
}

/** metav1.FormatLabelSelector: "<none>" for a selector that selects nothing or everything. */
const formatSelector = (selector: unknown) => selectorText(selector) || "<none>";

/** labels.FormatLabels: sorted k=v pairs, "<none>" when empty. */
function formatLabels(map: unknown): string {
  const entries = Object.entries(isPlainObject(map) ? map : {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return entries.length === 0 ? "<none>" : entries.map(([k, v]) => `${k}=${String(v)}`).join(",");
}

/** layoutContainerCells: names and images, comma-joined. */
function containerCells(obj: Obj): [string, string] {
  const containers = list(get(obj, "spec", "template", "spec", "containers"));
  return [containers.map((c) => str(c.name)).join(","), containers.map((c) => str(c.image)).join(",")];
}

/** loadBalancerStatusStringer (wide: never truncated). */
function loadBalancerText(status: unknown): string {
  const seen = new Set<string>();
  for (const i of list(get(status, "ingress"))) {
    if (str(i.ip)) seen.add(str(i.ip));
    else if (str(i.hostname)) seen.add(str(i.hostname));
  }
  return [...seen].sort().join(",");
}

function serviceExternalIP(obj: Obj): string {
  const external = (get(obj, "spec", "externalIPs") as string[] | undefined) ?? [];
  switch (str(get(obj, "spec", "type"))) {
    case "ClusterIP":
    case "NodePort":
      return external.length > 0 ? external.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = loadBalancerText(get(obj, "status", "loadBalancer"));
      if (external.length > 0) return [...(lb ? lb.split(",") : []), ...external].join(",");
      return lb || "<pending>";
    }
    case "ExternalName":
      return str(get(obj, "spec", "externalName"));
    default:
      return "<unknown>";
  }
}

const intOrString = (v: unknown) => (v === undefined || v === null ? "N/A" : String(v));

export const WORKLOAD_PRINTERS: Record<string, Printer> = {
  Deployment: {
    columns: [
      NAME_COLUMN,
      column("Ready", "Number of the pod with ready state"),
      column(
        "Up-to-date",
        "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
      ),
      column(
        "Available",
        "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
      ),
      AGE,
      CONTAINERS,
      IMAGES,
      column(
        "Selector",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
        1,
      ),
    ],
    cells(obj, now) {
      const [containers, images] = containerCells(obj);
      const desired =
        typeof get(obj, "spec", "replicas") === "number" ? int(get(obj, "spec", "replicas")) : 1;
      return [
        name(obj),
        `${int(get(obj, "status", "readyReplicas"))}/${desired}`,
        int(get(obj, "status", "updatedReplicas")),
        int(get(obj, "status", "availableReplicas")),
        created(obj, now),
        containers,
        images,
        selectorText(get(obj, "spec", "selector")),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      NAME_COLUMN,
      column(
        "Desired",
        "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
        0,
        "integer",
      ),
      column(
        "Current",
        "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
        0,
        "integer",
      ),
      column(
        "Ready",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
        0,
        "integer",
      ),
      AGE,
      CONTAINERS,
      IMAGES,
      column(
        "Selector",
        "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
        1,
      ),
    ],
    cells(obj, now) {
      const [containers, images] = containerCells(obj);
      return [
        name(obj),
        int(get(obj, "spec", "replicas")),
        int(get(obj, "status", "replicas")),
        int(get(obj, "status", "readyReplicas")),
        created(obj, now),
        containers,
        images,
        formatSelector(get(obj, "spec", "selector")),
      ];
    },
  },
  Service: {
    columns: [
      NAME_COLUMN,
      column(
        "Type",
        'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
      ),
      column(
        "Cluster-IP",
        'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
      ),
      column(
        "External-IP",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
      ),
      column(
        "Port(s)",
        "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
      ),
      AGE,
      column(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
        1,
      ),
    ],
    cells(obj, now) {
      const ips = (get(obj, "spec", "clusterIPs") as string[] | undefined) ?? [];
      const ports = list(get(obj, "spec", "ports"))
        .map((p) =>
          int(p.nodePort) > 0
            ? `${int(p.port)}:${int(p.nodePort)}/${str(p.protocol)}`
            : `${int(p.port)}/${str(p.protocol)}`,
        )
        .join(",");
      return [
        name(obj),
        str(get(obj, "spec", "type")),
        ips[0] ?? "<none>",
        serviceExternalIP(obj),
        ports || "<none>",
        created(obj, now),
        formatLabels(get(obj, "spec", "selector")),
      ];
    },
  },
  PodDisruptionBudget: {
    columns: [
      NAME_COLUMN,
      column("Min Available", "The minimum number of pods that must be available."),
      column("Max Unavailable", "The maximum number of pods that may be unavailable."),
      column(
        "Allowed Disruptions",
        "Calculated number of pods that may be disrupted at this time.",
        0,
        "integer",
      ),
      AGE,
    ],
    cells: (obj, now) => [
      name(obj),
      intOrString(get(obj, "spec", "minAvailable")),
      intOrString(get(obj, "spec", "maxUnavailable")),
      int(get(obj, "status", "disruptionsAllowed")),
      created(obj, now),
    ],
  },
  Ingress: {
    columns: [
      NAME_COLUMN,
      column(
        "Class",
        "The name of the IngressClass resource that should be used for additional configuration",
      ),
      column("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
      column("Address", "Address is a list containing ingress points for the load-balancer"),
      column("Ports", "Ports of TLS configurations that open"),
      AGE,
    ],
    cells(obj, now) {
      const rules = list(get(obj, "spec", "rules"));
      const hosts: string[] = [];
      let more = false;
      for (const r of rules) {
        if (hosts.length === 3) more = true;
        if (!more && str(r.host)) hosts.push(str(r.host));
      }
      let hostText = hosts.length === 0 ? "*" : hosts.join(",");
      if (hosts.length > 0 && more) hostText = `${hostText} + ${rules.length - 3} more...`;
      return [
        name(obj),
        str(get(obj, "spec", "ingressClassName")) || "<none>",
        hostText,
        loadBalancerText(get(obj, "status", "loadBalancer")),
        list(get(obj, "spec", "tls")).length > 0 ? "80, 443" : "80",
        created(obj, now),
      ];
    },
  },
  IngressClass: {
    columns: [
      NAME_COLUMN,
      column("Controller", "Controller that is responsible for handling this class"),
      column("Parameters", "A reference to a resource with additional parameters"),
      AGE,
    ],
    cells(obj, now) {
      const p = get(obj, "spec", "parameters");
      let parameters = "<none>";
      if (isPlainObject(p)) {
        parameters = `${str(p.kind)}${p.apiGroup !== undefined ? `.${str(p.apiGroup)}` : ""}/${str(p.name)}`;
      }
      return [name(obj), str(get(obj, "spec", "controller")), parameters, created(obj, now)];
    },
  },
  NetworkPolicy: {
    columns: [
      NAME_COLUMN,
      column(
        "Pod-Selector",
        "podSelector selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.",
      ),
      AGE,
    ],
    cells: (obj, now) => [name(obj), formatSelector(get(obj, "spec", "podSelector")), created(obj, now)],
  },
};
