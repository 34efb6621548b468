// field.Error of k8s.io/apimachinery: the reason (StatusCause type), the field path and the message
// kube-apiserver puts into Status.details.causes[].message (field.Error.ErrorBody()).
import { goBadValue, goQuote } from "./go-format.ts";

export type FieldErrorReason =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueTypeInvalid"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "FieldValueForbidden"
  | "FieldValueDuplicate";

export interface FieldError {
  reason: FieldErrorReason;
  field: string;
  message: string;
}

export const required = (field: string, detail = ""): FieldError => ({
  reason: "FieldValueRequired",
  field,
  message: withDetail("Required value", detail),
});

export const invalid = (field: string, value: unknown, detail: string): FieldError => ({
  reason: "FieldValueInvalid",
  field,
  message: withDetail(`Invalid value: ${goBadValue(value)}`, detail),
});

export const typeInvalid = (field: string, value: unknown, detail: string): FieldError => ({
  reason: "FieldValueTypeInvalid",
  field,
  message: withDetail(`Invalid value: ${goBadValue(value)}`, detail),
});

export const notSupported = (field: string, value: unknown, supported: string[]): FieldError => ({
  reason: "FieldValueNotSupported",
  field,
  message: withDetail(
    `Unsupported value: ${goBadValue(value)}`,
    supported.length > 0 ? `supported values: ${supported.map(goQuote).join(", ")}` : "",
  ),
});

export const tooLong = (field: string, maxLength: number): FieldError => ({
  reason: "FieldValueTooLong",
  field,
  message: `Too long: ${maxLength >= 0 ? `may not be more than ${maxLength} bytes` : "value is too long"}`,
});

export const tooMany = (field: string, actual: number, max: number): FieldError => ({
  reason: "FieldValueTooMany",
  field,
  message: withDetail(
    actual >= 0 ? `Too many: ${actual}` : "Too many",
    max >= 0 ? `must have at most ${max} items` : "too many items",
  ),
});

export const forbidden = (field: string, detail: string): FieldError => ({
  reason: "FieldValueForbidden",
  field,
  message: withDetail("Forbidden", detail),
});

export const duplicate = (field: string, value: unknown): FieldError => ({
  reason: "FieldValueDuplicate",
  field,
  message: `Duplicate value: ${goBadValue(value)}`,
});

function withDetail(head: string, detail: string): string {
  return detail ? `${head}: ${detail}` : head;
}

/** `<field>: <message>`, as field.Error.Error() and the Status message print each cause. */
export function formatFieldError(error: FieldError): string {
  return error.field ? `${error.field}: ${error.message}` : error.message;
}
