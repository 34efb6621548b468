// intstr.IntOrString as kube's apps and policy code reads it: scaled percentages (rounded up or down as
// the caller asks), and the validation and message texts of ValidatePositiveIntOrPercent.
import type { StatusCause } from "../errors.ts";
import { goQuote } from "../schema/go-format.ts";

export type IntOrString = number | string;

/** intstr.GetScaledValueFromIntOrPercent; throws on a string that is not a percentage. */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) throw new Error("nil value for IntOrString");
  if (typeof value === "number") return value;
  if (!value.endsWith("%"))
    throw new Error("invalid value for IntOrString: invalid type: string is not a percentage");
  const text = value.slice(0, -1);
  if (!/^[-+]?\d+$/.test(text))
    throw new Error(
      `invalid value for IntOrString: invalid value ${goQuote(value)}: strconv.Atoi: parsing ${goQuote(text)}: invalid syntax`,
    );
  const scaled = (Number(text) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** Go's %#v of an intstr.IntOrString value, as field errors print it. */
export function goIntOrString(value: IntOrString): string {
  return typeof value === "number"
    ? `intstr.IntOrString{Type:0, IntVal:${value}, StrVal:""}`
    : `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(value)}}`;
}

const PERCENT = /^[0-9]+%$/;

function invalid(field: string, value: IntOrString, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${goIntOrString(value)}: ${detail}`, field };
}

/** apps validation's ValidatePositiveIntOrPercent. */
export function positiveIntOrPercentCauses(value: IntOrString | undefined, field: string): StatusCause[] {
  if (value === undefined) return [];
  if (typeof value === "string") {
    return PERCENT.test(value)
      ? []
      : [
          invalid(
            field,
            value,
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
          ),
        ];
  }
  return value < 0
    ? [
        {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${value}: must be greater than or equal to 0`,
          field,
        },
      ]
    : [];
}

/** apps validation's IsNotMoreThan100Percent. */
export function notMoreThan100PercentCauses(value: IntOrString | undefined, field: string): StatusCause[] {
  if (typeof value !== "string" || !PERCENT.test(value)) return [];
  return Number(value.slice(0, -1)) > 100 ? [invalid(field, value, "must not be greater than 100%")] : [];
}

/** The number an int-or-percent holds (the percentage's number for a percent), as getIntOrPercentValue. */
export function intOrPercentNumber(value: IntOrString | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  const n = Number.parseInt(value.replace(/%$/, ""), 10);
  return Number.isNaN(n) ? 0 : n;
}
