// The string formats kube-apiserver validates in custom resources (apiextensions keeps only these;
// any other format, such as int32 or int64, is stripped from the schema and never checked).
// Each checker follows kube-openapi's strfmt, which mostly defers to Go's parsers.

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID3 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const UUID5 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const DOT_ATOM = `${ATEXT}(?:\\.${ATEXT})*`;
const ADDR_SPEC = `(?:${DOT_ATOM}|"(?:[^"\\\\\\r\\n]|\\\\.)*")@(?:${DOT_ATOM}|\\[[^\\[\\]\\\\]*\\])`;
const EMAIL = new RegExp(`^(?:${ADDR_SPEC}|(?:[^<>]*?\\s*)?<${ADDR_SPEC}>)$`, "u");
const HOSTNAME =
  /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})$/u;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// govalidator.IsBase64: at least one quantum, so "" is not base64.
const BYTE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const DURATION_GO = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$/;
const DURATION_UNITS =
  /^(\d+)\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?)$/;
const MAC =
  /^(?:[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}|[0-9a-f]{2}(?:[:-][0-9a-f]{2}){7}|[0-9a-f]{2}(?:[:-][0-9a-f]{2}){19}|[0-9a-f]{4}(?:\.[0-9a-f]{4}){2}|[0-9a-f]{4}(?:\.[0-9a-f]{4}){3}|[0-9a-f]{4}(?:\.[0-9a-f]{4}){9})$/i;

function isDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// strfmt.IsDateTime: a full date, a "t", and a time with a zone (case-insensitive); its fraction pattern
// `(.[0-9]+)?` has an unescaped dot, kept as it is.
function isDateTime(text: string): boolean {
  if (text.length < 4) return false;
  const parts = text.toLowerCase().split("t");
  if (parts.length < 2 || !isDate(parts[0]!)) return false;
  const m = /^(\d{2}):(\d{2}):(\d{2})(.\d+)?(z|[+-]\d{2}:\d{2})$/.exec(parts[1]!);
  return !!m && m[1]! <= "23" && m[2]! <= "59" && m[3]! <= "59";
}

function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && !/^0\d/.test(p));
}

function isIPv6(text: string): boolean {
  if (!text.includes(":")) return false;
  let rest = text;
  let groupsWanted = 8;
  const lastColon = rest.lastIndexOf(":");
  const tail = rest.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!isIPv4(tail)) return false;
    rest = `${rest.slice(0, lastColon + 1)}0`;
    groupsWanted = 7;
  }
  const halves = rest.split("::");
  if (halves.length > 2) return false;
  const group = /^[0-9a-f]{1,4}$/i;
  const split = (h: string) => (h === "" ? [] : h.split(":"));
  const groups = halves.flatMap(split);
  if (!groups.every((g) => group.test(g))) return false;
  return halves.length === 2 ? groups.length < groupsWanted : groups.length === groupsWanted;
}

function isCIDR(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash < 0) return false;
  const ip = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (isIPv4(ip)) return Number(bits) <= 32;
  return isIPv6(ip) && Number(bits) <= 128;
}

// url.ParseRequestURI: an absolute URI or an absolute path; no control bytes; valid escapes and host.
function isRequestURI(text: string): boolean {
  if (text === "" || [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return false;
  if (/%(?![0-9a-fA-F]{2})/.test(text)) return false;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
  if (!scheme) return text.startsWith("/") && !text.startsWith("//");
  const rest = text.slice(scheme[0].length);
  if (!rest.startsWith("//")) return true;
  const authorityEnd = rest.slice(2).search(/[/?]/);
  const authority = authorityEnd < 0 ? rest.slice(2) : rest.slice(2, 2 + authorityEnd);
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  if (host.startsWith("[")) return /^\[[0-9a-fA-F:.%]+\](:\d*)?$/.test(host);
  const colon = host.lastIndexOf(":");
  const name = colon >= 0 ? host.slice(0, colon) : host;
  if (colon >= 0 && !/^\d*$/.test(host.slice(colon + 1))) return false;
  return /^[A-Za-z0-9\-._~!$&'()*+,;=<>"%\u0080-\uffff]*$/u.test(name);
}

const CHECKS: Record<string, (text: string) => boolean> = {
  bsonobjectid: (t) => /^[0-9a-f]{24}$/i.test(t),
  uri: isRequestURI,
  email: (t) => EMAIL.test(t),
  hostname: (t) =>
    HOSTNAME.test(t) && Buffer.byteLength(t) <= 255 && t.split(".").every((p) => Buffer.byteLength(p) <= 63),
  ipv4: isIPv4,
  ipv6: isIPv6,
  cidr: isCIDR,
  mac: (t) => MAC.test(t),
  uuid: (t) => UUID.test(t),
  uuid3: (t) => UUID3.test(t),
  uuid4: (t) => UUID4.test(t),
  uuid5: (t) => UUID5.test(t),
  isbn: (t) => /^(?:\d{9}[\dX]|\d{13})$/.test(t.replaceAll(/[- ]/g, "")),
  isbn10: (t) => /^\d{9}[\dX]$/.test(t.replaceAll(/[- ]/g, "")),
  isbn13: (t) => /^\d{13}$/.test(t.replaceAll(/[- ]/g, "")),
  creditcard: (t) => /^\d{13,19}$/.test(t.replaceAll(/[- ]/g, "")),
  ssn: (t) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(t),
  hexcolor: (t) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(t),
  rgbcolor: (t) =>
    /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/.test(
      t,
    ),
  byte: (t) => BYTE.test(t),
  password: () => true,
  date: isDate,
  duration: (t) => DURATION_GO.test(t) || DURATION_UNITS.test(t),
  datetime: isDateTime,
  "k8s-short-name": (t) => t.length <= 63 && DNS1123_LABEL.test(t),
  "k8s-long-name": (t) => t.length <= 253 && DNS1123_SUBDOMAIN.test(t),
};

/** The checker for a format as apiextensions keeps it (dashes are ignored, as go-openapi does), or undefined. */
export function formatChecker(format: string | undefined): ((text: string) => boolean) | undefined {
  if (!format) return undefined;
  if (format.startsWith("k8s-")) return CHECKS[format];
  return CHECKS[format.replaceAll("-", "")];
}
