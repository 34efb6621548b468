// metav1.LabelSelector as the controllers use it: matching (nil selects nothing, {} everything, as
// LabelSelectorAsSelector), its canonical string (a Scale's status.selector, `kubectl get -o wide`),
// ValidateLabelSelector's causes, and Go's %#v of it for field errors.
import { labelValueErrors, qualifiedNameErrors } from "../builtin-validation.ts";
import type { StatusCause } from "../errors.ts";
import { goQuote } from "../schema/go-format.ts";

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Record<string, string> | undefined;

export function isEmptySelector(selector: LabelSelector | null | undefined): boolean {
  return (
    !!selector &&
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

/** labels.Selector.Matches of LabelSelectorAsSelector(selector). */
export function selectorMatches(selector: LabelSelector | null | undefined, labels: Labels): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, r.key);
    const values = r.values ?? [];
    switch (r.operator) {
      case "In":
        if (!has || !values.includes(l[r.key]!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(l[r.key]!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** labels.Selector.String(): requirements sorted by key, values sorted. */
export function selectorString(selector: LabelSelector | null | undefined): string {
  if (!selector) return "";
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const r of selector.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort();
    const list = values.length === 1 ? values[0]! : values.join(",");
    const text =
      r.operator === "In"
        ? `${r.key} in (${list})`
        : r.operator === "NotIn"
          ? `${r.key} notin (${list})`
          : r.operator === "Exists"
            ? r.key
            : `!${r.key}`;
    parts.push({ key: r.key, text });
  }
  // A stable sort by key, as labels.Requirements are sorted when the selector is built.
  return parts
    .map((p, i) => ({ ...p, i }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i))
    .map((p) => p.text)
    .join(",");
}

const invalid = (field: string, value: string, detail: string): StatusCause => ({
  reason: "FieldValueInvalid",
  message: `Invalid value: ${goQuote(value)}: ${detail}`,
  field,
});

/** metav1 validation's ValidateLabelSelector (label values in expressions checked). */
export function labelSelectorCauses(
  selector: LabelSelector | null | undefined,
  field: string,
): StatusCause[] {
  if (!selector) return [];
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    for (const e of qualifiedNameErrors(k)) causes.push(invalid(`${field}.matchLabels`, k, e));
    for (const e of labelValueErrors(v)) causes.push(invalid(`${field}.matchLabels`, String(v), e));
  }
  (selector.matchExpressions ?? []).forEach((r, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    const values = r.values ?? [];
    if (r.operator === "In" || r.operator === "NotIn") {
      if (values.length === 0)
        causes.push({
          reason: "FieldValueRequired",
          message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
          field: `${at}.values`,
        });
    } else if (r.operator === "Exists" || r.operator === "DoesNotExist") {
      if (values.length > 0)
        causes.push({
          reason: "FieldValueForbidden",
          message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          field: `${at}.values`,
        });
    } else {
      causes.push(invalid(`${at}.operator`, String(r.operator), "not a valid selector operator"));
    }
    for (const e of qualifiedNameErrors(String(r.key))) causes.push(invalid(`${at}.key`, String(r.key), e));
    values.forEach((v, j) => {
      for (const e of labelValueErrors(v)) causes.push(invalid(`${at}.values[${j}]`, String(v), e));
    });
  });
  return causes;
}

/** Go's %#v of a map[string]string. */
export function goStringMap(map: Record<string, string> | undefined): string {
  if (map === undefined) return "map[string]string(nil)";
  const entries = Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[string]string{${entries.map(([k, v]) => `${goQuote(k)}:${goQuote(v)}`).join(", ")}}`;
}

/** Go's %#v of a v1.LabelSelector value (how an immutable-selector error prints it). */
export function goLabelSelector(selector: LabelSelector): string {
  const expressions = selector.matchExpressions;
  const exprs =
    expressions === undefined
      ? "[]v1.LabelSelectorRequirement(nil)"
      : `[]v1.LabelSelectorRequirement{${expressions
          .map(
            (r) =>
              `v1.LabelSelectorRequirement{Key:${goQuote(r.key)}, Operator:${goQuote(r.operator)}, Values:${
                r.values === undefined ? "[]string(nil)" : `[]string{${r.values.map(goQuote).join(", ")}}`
              }}`,
          )
          .join(", ")}}`;
  return `v1.LabelSelector{MatchLabels:${goStringMap(selector.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** The gogo-protobuf String() of a *LabelSelector, as `%v` prints one in event messages. */
export function protoLabelSelector(selector: LabelSelector | null | undefined): string {
  if (!selector) return "nil";
  const labels = Object.keys(selector.matchLabels ?? {})
    .sort()
    .map((k) => `${k}: ${selector.matchLabels![k]},`)
    .join("");
  const exprs = (selector.matchExpressions ?? [])
    .map(
      (r) =>
        `LabelSelectorRequirement{Key:${r.key},Operator:${r.operator},Values:[${(r.values ?? []).join(" ")}],},`,
    )
    .join("");
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}
