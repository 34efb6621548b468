// The static checks apiextensions-apiserver applies to a CRD version's additionalPrinterColumns
// (ValidateCustomResourceColumnDefinition). A jsonPath that passes them but does not parse is only
// refused later, when the table is rendered, as in kube.
import { type FieldError, invalid, required } from "./field-error.ts";
import type { AdditionalPrinterColumn } from "./table.ts";

const TYPES = ["boolean", "date", "integer", "number", "string"];
const FORMATS = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"];

/** Errors for the columns at `path` (such as `spec.versions[0].additionalPrinterColumns`). */
export function checkPrinterColumns(columns: Partial<AdditionalPrinterColumn>[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  columns.forEach((col, i) => {
    const at = `${path}[${i}]`;
    if (!col.name) errors.push(required(`${at}.name`));
    if (!col.type) errors.push(required(`${at}.type`, `must be one of ${TYPES.join(",")}`));
    else if (!TYPES.includes(col.type))
      errors.push(invalid(`${at}.type`, col.type, `must be one of ${TYPES.join(",")}`));
    if (col.format && !FORMATS.includes(col.format)) {
      errors.push(invalid(`${at}.format`, col.format, `must be one of ${FORMATS.join(",")}`));
    }
    // kube names this field by its internal Go name when it is missing.
    if (!col.jsonPath) errors.push(required(`${at}.JSONPath`));
    else if (!col.jsonPath.startsWith(".")) {
      errors.push(invalid(`${at}.jsonPath`, col.jsonPath, "must be a simple json path starting with ."));
    }
  });
  return errors;
}
