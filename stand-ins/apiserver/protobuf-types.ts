// The shape of the protobuf message schemas protobuf.ts decodes with (field numbers of k8s.io/api generated.proto).

/**
 * "bool" keeps false (a *bool in Go: set means set), "flag" drops it (a plain bool, omitempty in JSON).
 * Map values: strings, bytes (base64 in JSON), authorization's ExtraValue (a list of strings), or a
 * resource.Quantity (its string). The message IntOrString becomes a JSON number or string.
 */
export type FieldType =
  | "string"
  | "bytes"
  | "int"
  | "bool"
  | "flag"
  | { message: string }
  | { map: "string" | "bytes" | "strings" | "quantity" };

export interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
}

export type MessageSchema = Record<number, Field>;
