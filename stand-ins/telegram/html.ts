// Telegram's HTML parse mode, as strictly as the real server parses it: only its tags, only its
// entities, every tag closed in order. Returns the visible text and its entities (UTF-16 offsets),
// or throws a ParseError whose message is Telegram's own wording.

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export class ParseError extends Error {}

const TAGS: Record<string, string> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  a: "text_link",
  code: "code",
  pre: "pre",
  span: "spoiler",
  "tg-spoiler": "spoiler",
  "tg-emoji": "custom_emoji",
  blockquote: "blockquote",
};

const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

const encoder = new TextEncoder();
const byteOffset = (source: string, index: number) => encoder.encode(source.slice(0, index)).length;

interface Open {
  tag: string;
  start: number; // UTF-16 offset in the output text
  url?: string;
  language?: string;
}

function parseAttributes(text: string, at: number): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /\s*([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/y;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (!match)
      throw new ParseError(
        `Expected equal sign in declaration of an attribute of the tag at byte offset ${at}`,
      );
    attributes[match[1]!.toLowerCase()] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? "", at);
    index = pattern.lastIndex;
  }
  return attributes;
}

function decodeEntities(text: string, at: number): string {
  return text.replace(/&([^;&\s]*);?/g, (whole) => decodeEntity(whole, at));
}

function decodeEntity(entity: string, at: number): string {
  if (!entity.endsWith(";"))
    throw new ParseError(`Can't find end of the entity starting at byte offset ${at}`);
  const body = entity.slice(1, -1);
  const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(body);
  if (numeric) {
    const code = numeric[1] ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new ParseError(`Invalid entity code at byte offset ${at}`);
    }
    return String.fromCodePoint(code);
  }
  const named = NAMED[body];
  if (named === undefined) throw new ParseError(`Unsupported HTML entity "${entity}" at byte offset ${at}`);
  return named;
}

export function parseHtml(source: string): { text: string; entities: MessageEntity[] } {
  let text = "";
  const entities: MessageEntity[] = [];
  const stack: Open[] = [];
  let index = 0;
  while (index < source.length) {
    const c = source[index]!;
    if (c === "&") {
      const end = /^&[^;&\s<]{0,10};/.exec(source.slice(index));
      if (!end)
        throw new ParseError(
          `Can't find end of the entity starting at byte offset ${byteOffset(source, index)}`,
        );
      text += decodeEntity(end[0], byteOffset(source, index));
      index += end[0].length;
      continue;
    }
    if (c !== "<") {
      text += c;
      index++;
      continue;
    }
    const at = byteOffset(source, index);
    const close = source.indexOf(">", index);
    if (close < 0) throw new ParseError(`Can't find end of the tag starting at byte offset ${at}`);
    const inner = source.slice(index + 1, close);
    index = close + 1;
    if (inner.startsWith("/")) {
      const name = inner.slice(1).trim().toLowerCase();
      const open = stack.pop();
      if (!open) throw new ParseError(`Unexpected end tag at byte offset ${at}`);
      if (open.tag !== name) {
        throw new ParseError(
          `Unmatched end tag at byte offset ${at}, expected "</${open.tag}>", found "<${inner}>"`,
        );
      }
      const length = text.length - open.start;
      if (length > 0) {
        const entity: MessageEntity = { type: TAGS[open.tag]!, offset: open.start, length };
        if (open.url) entity.url = open.url;
        if (open.language) entity.language = open.language;
        entities.push(entity);
      }
      continue;
    }
    const name = /^[a-zA-Z][a-zA-Z0-9-]*/.exec(inner)?.[0].toLowerCase() ?? "";
    if (!(name in TAGS))
      throw new ParseError(`Unsupported start tag "${name || inner}" at byte offset ${at}`);
    const attributes = parseAttributes(inner.slice(name.length), at);
    const open: Open = { tag: name, start: text.length };
    if (name === "a") {
      if (!attributes.href)
        throw new ParseError(`Empty or missing href attribute of the tag at byte offset ${at}`);
      open.url = attributes.href;
    }
    if (name === "span" && attributes.class !== "tg-spoiler") {
      throw new ParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${at}`);
    }
    stack.push(open);
  }
  const unclosed = stack.pop();
  if (unclosed) throw new ParseError(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

const MARKDOWN_V2_RESERVED = /(?<!\\)[.!\-=+#|{}>]/;

/** MarkdownV2: only the reserved-character rule, the mistake that real senders make. */
export function checkMarkdownV2(source: string): void {
  const match = MARKDOWN_V2_RESERVED.exec(source);
  if (match) {
    throw new ParseError(`Character '${match[0]}' is reserved and must be escaped with the preceding '\\'`);
  }
}
