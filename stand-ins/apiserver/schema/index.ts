// The schema engine of Kiln's test Kubernetes API server: what apiextensions-apiserver and kube's
// printers do with custom resources and tables, as pure functions.

export { humanDuration } from "../../../api/duration.ts";
export { admitCustomResource } from "./admit.ts";
export { builtinTable } from "./builtin-table.ts";
export { defaultObject } from "./defaults.ts";
export type { FieldError, FieldErrorReason } from "./field-error.ts";
export { formatFieldError } from "./field-error.ts";
export { compileJSONPath, evaluateJSONPath } from "./jsonpath.ts";
export type { CustomResourceDefinitionLike } from "./openapi.ts";
export {
  definitionName,
  groupVersionPath,
  openAPIV2,
  openAPIV3ForGroupVersion,
  openAPIV3Index,
} from "./openapi.ts";
export { checkPrinterColumns } from "./printer-columns.ts";
export { OBJECT_META_FIELDS, pruneObject } from "./prune.ts";
export { checkStructuralSchema } from "./structural.ts";
export type {
  AdditionalPrinterColumn,
  Table,
  TableColumnDefinition,
  TableOptions,
  TableRow,
  TableRowCondition,
} from "./table.ts";
export { customResourceTable } from "./table.ts";
export { validateObject } from "./validate.ts";
