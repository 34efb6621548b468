// Pure: the sandbox console's lines. Chat messages as a terminal can show them (from the text and
// entities Telegram made of the bot's HTML: bold, italic, code; a link as its text and its URL; the
// inline keyboard as [Label] [Label]), commit statuses and webhook deliveries, one greppable header
// line each (`chat ▸ `, `status ▸ `, `push ▸ `); and what a line typed on the console means: a
// message in the chat, or a press of a button under one of the bot's messages.

export interface ChatEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
}

export interface ChatButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export interface ChatMessage {
  message_id: number;
  text: string;
  entities: readonly ChatEntity[];
  reply_markup?: { inline_keyboard: ChatButton[][] };
}

export const CHAT = "chat ▸ ";
export const YOU = "you ▸ ";
export const CONSOLE = "console ▸ ";
const INDENT = " ".repeat([...CHAT].length);

const ANSI: Record<string, [string, string]> = {
  bold: ["\x1b[1m", "\x1b[22m"],
  italic: ["\x1b[3m", "\x1b[23m"],
  underline: ["\x1b[4m", "\x1b[24m"],
  strikethrough: ["\x1b[9m", "\x1b[29m"],
  code: ["\x1b[36m", "\x1b[39m"],
  pre: ["\x1b[36m", "\x1b[39m"],
};

/**
 * The message's text with its entities shown: styles as ANSI when `ansi` (plain text otherwise, so
 * a pipe or a log gets the words alone), a link's URL after its text unless the text is the URL.
 */
export function renderEntities(text: string, entities: readonly ChatEntity[], ansi: boolean): string {
  // Marks to insert, by UTF-16 offset: closing ones before opening ones at the same place, the inner
  // entity's close first, the outer entity's open first (entities nest, as Telegram's HTML does).
  const marks: Array<{ at: number; close: boolean; length: number; text: string }> = [];
  for (const e of entities) {
    const style = ansi ? ANSI[e.type] : undefined;
    if (style) {
      marks.push({ at: e.offset, close: false, length: e.length, text: style[0] });
      marks.push({ at: e.offset + e.length, close: true, length: e.length, text: style[1] });
    }
    const url = e.type === "text_link" ? e.url : undefined;
    if (url && text.slice(e.offset, e.offset + e.length) !== url)
      marks.push({ at: e.offset + e.length, close: true, length: e.length, text: ` (${url})` });
  }
  marks.sort((a, b) =>
    a.at !== b.at
      ? a.at - b.at
      : a.close !== b.close
        ? a.close
          ? -1
          : 1
        : a.close
          ? a.length - b.length
          : b.length - a.length,
  );
  let out = "";
  let from = 0;
  for (const mark of marks) {
    out += text.slice(from, mark.at) + mark.text;
    from = mark.at;
  }
  return out + text.slice(from);
}

/** The inline keyboard as one line: [▶️ Release] [⛔ Cancel]. */
export function renderKeyboard(buttons: readonly ChatButton[][]): string {
  return buttons
    .flat()
    .map((b) => `[${b.text}]`)
    .join(" ");
}

export const PRESS_HINT = "type a button's label to press it, or /press <n>";

/** A message of the bot: a `chat ▸ ` header with its first line, the rest indented, then its buttons. */
export function renderMessage(message: ChatMessage, ansi: boolean): string[] {
  const lines = renderEntities(message.text, message.entities, ansi).split("\n");
  const out = lines.map((line, i) => (i === 0 ? CHAT : INDENT) + line);
  const buttons = message.reply_markup?.inline_keyboard ?? [];
  if (buttons.flat().length > 0) out.push(`${INDENT}${renderKeyboard(buttons)}   (${PRESS_HINT})`);
  return out;
}

/** The bot's answer to a button press (a toast in Telegram's apps). */
export function renderAnswer(text: string | undefined): string[] {
  return text ? [`${CHAT}(on the button) ${text}`] : [];
}

export interface StatusLine {
  state: string;
  context: string;
  description: string | null;
  target_url: string | null;
}

/** A commit status as it arrives: status ▸ <sha7> <context> <state> <description> [<target>]. */
export function renderStatus(sha: string, status: StatusLine): string {
  const parts = [sha.slice(0, 7), status.context, status.state, status.description ?? ""];
  if (status.target_url) parts.push(status.target_url);
  return `status ▸ ${parts.join(" ").trimEnd()}`;
}

export interface DeliveryLine {
  event: string;
  status_code: number;
  status: string;
  request: { payload: unknown };
  response: { payload: string | null };
}

/** What the webhook answered: its message, and the Builds it names. */
function answer(delivery: DeliveryLine): string {
  if (delivery.status_code === 0) return `not delivered: ${delivery.status}`;
  let said = "";
  try {
    const body = JSON.parse(delivery.response.payload ?? "") as { message?: unknown; builds?: unknown };
    if (typeof body.message === "string") said = body.message;
    if (Array.isArray(body.builds) && body.builds.length > 0) said += `: ${body.builds.join(", ")}`;
  } catch {
    // Not JSON: the status code says enough.
  }
  return `${delivery.status_code}${said ? ` ${said}` : ""}`;
}

/** A webhook delivery once answered: push ▸ <ref> <before7>..<after7> → webhook <answer>. */
export function renderDelivery(delivery: DeliveryLine): string {
  const payload = delivery.request.payload as { ref?: string; before?: string; after?: string };
  if (delivery.event === "push" && payload.ref && payload.before && payload.after)
    return `push ▸ ${payload.ref} ${payload.before.slice(0, 7)}..${payload.after.slice(0, 7)} → webhook ${answer(delivery)}`;
  return `hook ▸ ${delivery.event} → webhook ${answer(delivery)}`;
}

export type ConsoleAction =
  | { kind: "none" }
  | { kind: "say"; text: string }
  | { kind: "press"; messageID: number; data: string; label: string }
  | { kind: "error"; message: string };

/** A label as a person types it: letters and digits only, any case ("▶️ Release" → "release"). */
const normalize = (label: string) => label.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");

const pressable = (message: ChatMessage) =>
  (message.reply_markup?.inline_keyboard ?? []).flat().filter((b) => b.callback_data !== undefined);

/**
 * What a typed line does, given the bot's messages in the chat (oldest first): `/press <n|label>`
 * presses a button of the newest message that has buttons; a line that is a button's label presses
 * it on the newest message showing it; anything else is said in the chat.
 */
export function parseConsoleLine(line: string, messages: readonly ChatMessage[]): ConsoleAction {
  const text = line.replace(/\r$/, "").trim();
  if (text === "") return { kind: "none" };
  const newestFirst = [...messages].reverse();
  const press = /^\/press(?:@\S+)?(?:\s+(.*))?$/i.exec(text);
  if (press) {
    const what = (press[1] ?? "").trim();
    const message = newestFirst.find((m) => pressable(m).length > 0);
    if (!message) return { kind: "error", message: "no message with buttons to press" };
    const buttons = pressable(message);
    const labels = buttons.map((b, i) => `${i + 1} ${b.text}`).join(", ");
    const n = Number(what);
    const button = /^\d+$/.test(what)
      ? buttons[n - 1]
      : what && buttons.find((b) => normalize(b.text) === normalize(what));
    if (!button) return { kind: "error", message: `no button "${what}" under the newest message: ${labels}` };
    return { kind: "press", messageID: message.message_id, data: button.callback_data!, label: button.text };
  }
  const wanted = normalize(text);
  if (wanted !== "" && !text.startsWith("/"))
    for (const message of newestFirst) {
      const button = pressable(message).find((b) => normalize(b.text) === wanted);
      if (button)
        return {
          kind: "press",
          messageID: message.message_id,
          data: button.callback_data!,
          label: button.text,
        };
    }
  return { kind: "say", text };
}
