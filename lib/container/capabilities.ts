// A container's capability bounding set as containerd computes it from a securityContext: its default
// set, minus `drop`, plus `add` ("ALL" in either means every one), or everything when privileged.
import { CAPABILITY_NUMBERS } from "./container-init.ts";

/** containerd's default capabilities (lower case, without cap_). */
export const DEFAULT_CAPS = [
  "chown",
  "dac_override",
  "fsetid",
  "fowner",
  "mknod",
  "net_raw",
  "setgid",
  "setuid",
  "setfcap",
  "setpcap",
  "net_bind_service",
  "sys_chroot",
  "kill",
  "audit_write",
];

const capName = (c: string) => c.toLowerCase().replace(/^cap_/, "");

/** The bounding set by name; "all" when privileged or when `add` says ALL. */
export function boundingSet(options: {
  drop?: string[];
  add?: string[];
  privileged?: boolean;
}): string[] | "all" {
  if (options.privileged) return "all";
  const drop = (options.drop ?? []).map(capName);
  const add = (options.add ?? []).map(capName);
  const base = drop.includes("all") ? [] : DEFAULT_CAPS.filter((cap) => !drop.includes(cap));
  return add.includes("all") ? "all" : [...new Set([...base, ...add])];
}

/** The numbers the container init takes (names it does not know are left out). */
export function capabilityNumbers(names: string[] | "all"): number[] | "all" {
  if (names === "all") return "all";
  return names.flatMap((name) => (name in CAPABILITY_NUMBERS ? [CAPABILITY_NUMBERS[name]!] : []));
}
