// `$(VAR)` expansion exactly as Kubernetes does it for env values, command and args
// (k8s.io/kubernetes third_party/forked/golang/expansion): `$$` is an escaped `$`, an undefined
// variable is left as written, an unterminated `$(` is kept literally.

export type Lookup = (name: string) => string | undefined;

export function expand(input: string, lookup: Lookup): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === "$") {
      out += "$";
    } else if (rest[0] === "(") {
      const close = rest.indexOf(")", 1);
      if (close === -1) {
        out += "$(";
      } else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A lookup over ordered env entries (later entries win, as in a container's environment). */
export function lookupIn(env: ReadonlyMap<string, string>): Lookup {
  return (name) => env.get(name);
}
