// A fake Telegram Bot API on 127.0.0.1: `/bot<token>/<method>` with the Bot API's envelopes
// ({ok, result} / {ok: false, error_code, description, parameters}), strict validation of what
// Kiln sends, Telegram's rate limits (per chat, per group, overall), injectable errors, and hooks for tests to
// play a user (updates) and read what the bot said.
import { EventEmitter, once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkMarkdownV2, type MessageEntity, ParseError, parseHtml } from "./html.ts";

export interface FakeChat {
  id: number;
  type: "private" | "group" | "supergroup" | "channel";
  title?: string;
  first_name?: string;
  username?: string;
}

export interface InlineButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export interface SentMessage {
  message_id: number;
  chat_id: number;
  text: string;
  entities: MessageEntity[];
  parse_mode?: string;
  date: number;
  /** Buttons under the message (an inline keyboard), as the last sendMessage or edit left them. */
  reply_markup?: { inline_keyboard: InlineButton[][] };
}

export interface TelegramUser {
  id: number;
  first_name?: string;
  username?: string;
}

export interface InjectedError {
  error_code: number;
  description?: string;
  retry_after?: number;
  /** Only for this chat (sendMessage); any chat when absent. */
  chat?: number;
  /** How many calls fail; default 1. */
  times?: number;
}

export interface FakeTelegramOptions {
  token?: string;
  chats?: FakeChat[];
  /** Minimum spacing of messages to one chat; default 1000 ms. 0 turns this limit off. */
  perChatIntervalMs?: number;
  /** Messages a group may receive per minute; default 20 (Telegram's limit). 0 turns this limit off. */
  groupPerMinute?: number;
  /** Messages the bot may send per second over all chats; default 30 (Telegram's limit). 0: off. */
  globalPerSecond?: number;
  now?: () => number;
  /** The port on 127.0.0.1 (default 0: any free one). */
  port?: number;
}

export interface CallbackAnswer {
  callback_query_id: string;
  text?: string;
  show_alert?: boolean;
}

/** What the bot does in the chats, for a console or a test to follow as it happens. */
export interface FakeTelegramEvents {
  /** The bot sent a message. */
  message: [message: SentMessage];
  /** The bot changed the buttons under a message (reply_markup as it is now). */
  edited: [message: SentMessage];
  /** The bot answered a button press. */
  answered: [answer: CallbackAnswer];
}

interface Update {
  update_id: number;
  message?: Record<string, unknown>;
  callback_query?: Record<string, unknown>;
}

/** The update types a bot gets when it never named any (Telegram leaves out chat_member and a few more). */
const DEFAULT_UPDATES = ["message", "edited_message", "channel_post", "callback_query", "inline_query"];

interface Poller {
  offset: number;
  limit: number;
  respond: (status: number, body: unknown) => void;
  timer: NodeJS.Timeout;
}

const MESSAGE_LIMIT = 4096;
const BOT = { id: 7000001, is_bot: true, first_name: "Kiln", username: "kiln_test_bot" };
const bad = (description: string) => ({ status: 400, body: fail(400, `Bad Request: ${description}`) });

function fail(code: number, description: string, parameters?: Record<string, unknown>) {
  return { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) };
}

export class FakeTelegram {
  readonly token: string;
  readonly sent: SentMessage[] = [];
  readonly calls: { method: string; params: Record<string, unknown> }[] = [];
  readonly events = new EventEmitter<FakeTelegramEvents>();
  commands: unknown[] = [];
  #server: Server;
  #chats = new Map<number, FakeChat>();
  #blocked = new Map<number, string>();
  #errors: { method: string; error: InjectedError }[] = [];
  #updates: Update[] = [];
  #nextUpdate = 1;
  #nextMessage = 1;
  #poller?: Poller;
  #history = new Map<number, number[]>();
  #recent: number[] = [];
  #options: Required<Omit<FakeTelegramOptions, "chats" | "token" | "port">>;
  #waiters = new Set<() => void>();
  #hangs: { method: string; left: number }[] = [];
  #outage: Omit<InjectedError, "times" | "chat"> | "refuse" | undefined;
  /** allowed_updates, as the bot last set it (Telegram keeps it across getUpdates calls). */
  #allowedUpdates: string[] = DEFAULT_UPDATES;
  /** Callback queries not answered yet, by id. */
  #openQueries = new Map<string, { at: number }>();
  #nextQuery = 1;
  /** What the bot answered to button presses (answerCallbackQuery), in order. */
  readonly callbackAnswers: CallbackAnswer[] = [];

  private constructor(server: Server, options: FakeTelegramOptions) {
    this.#server = server;
    this.token = options.token ?? "123456:TEST-token_abcdefghijklmnopqrstuvw";
    for (const chat of options.chats ?? []) this.#chats.set(chat.id, chat);
    this.#options = {
      perChatIntervalMs: options.perChatIntervalMs ?? 1000,
      groupPerMinute: options.groupPerMinute ?? 20,
      globalPerSecond: options.globalPerSecond ?? 30,
      now: options.now ?? Date.now,
    };
  }

  static async start(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
    const server = createServer();
    const fake = new FakeTelegram(server, options);
    server.on("request", (req, res) => fake.#handle(req, res));
    server.listen(options.port ?? 0, "127.0.0.1");
    await once(server, "listening");
    return fake;
  }

  /** The API root to give telegraf (`apiRoot`). */
  get apiRoot(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  addChat(chat: FakeChat): void {
    this.#chats.set(chat.id, chat);
  }

  /** From now on sendMessage to this chat answers 403 (the user blocked the bot, or it was removed). */
  block(chat: number, description?: string): void {
    const type = this.#chats.get(chat)?.type;
    this.#blocked.set(
      chat,
      description ??
        (type === "private"
          ? "Forbidden: bot was blocked by the user"
          : "Forbidden: bot was kicked from the group chat"),
    );
  }

  /**
   * An outage of sendMessage until cleared (undefined): every call answers this error (a 5xx, or a 429
   * with retry_after), or with "refuse" the connection is dropped without an answer, as when Telegram
   * cannot be reached. The bot's other calls (getUpdates …) are not affected.
   */
  outage(mode: Omit<InjectedError, "times" | "chat"> | "refuse" | undefined): void {
    this.#outage = mode;
  }

  /** The next `times` calls of `method` get no answer at all (until stop): a hung server. */
  hang(method: string, times = 1): void {
    this.#hangs.push({ method: method.toLowerCase(), left: times });
  }

  /** The next call(s) of `method` fail with this error. */
  injectError(method: string, error: InjectedError): void {
    this.#errors.push({ method, error: { times: 1, ...error } });
  }

  messagesTo(chat: number): SentMessage[] {
    return this.sent.filter((message) => message.chat_id === chat);
  }

  /**
   * A user presses a button under a message the bot sent: the bot gets a callback_query update
   * (if it asked for them in allowed_updates). Returns the query id the bot must answer.
   */
  userPresses(messageID: number, data: string, from: TelegramUser = { id: 42 }): string {
    const message = this.sent.find((m) => m.message_id === messageID);
    if (!message) throw new Error(`no message ${messageID} to press a button under`);
    const buttons = message.reply_markup?.inline_keyboard.flat() ?? [];
    if (!buttons.some((b) => b.callback_data === data))
      throw new Error(`message ${messageID} has no button with data ${JSON.stringify(data)}`);
    const id = String(this.#nextQuery++);
    this.#openQueries.set(id, { at: this.#options.now() });
    this.#push({
      update_id: this.#nextUpdate++,
      callback_query: {
        id,
        from: { is_bot: false, first_name: "User", ...from },
        chat_instance: `ci${message.chat_id}`,
        data,
        message: {
          message_id: message.message_id,
          from: BOT,
          chat: this.#chats.get(message.chat_id),
          date: message.date,
          text: message.text,
          ...(message.reply_markup ? { reply_markup: message.reply_markup } : {}),
        },
      },
    });
    return id;
  }

  /** A user writes in a chat; the bot sees it through getUpdates. */
  userSays(chat: number, text: string, from: TelegramUser = { id: 42 }): number {
    const chatInfo = this.#chats.get(chat) ?? { id: chat, type: "private" as const };
    const message: Record<string, unknown> = {
      message_id: this.#nextMessage++,
      from: { is_bot: false, first_name: "User", ...from },
      chat: chatInfo,
      date: Math.floor(this.#options.now() / 1000),
      text,
    };
    const command = /^\/[a-zA-Z0-9_]+(@[a-zA-Z0-9_]+)?/.exec(text);
    if (command) message.entities = [{ type: "bot_command", offset: 0, length: command[0].length }];
    const update = { update_id: this.#nextUpdate++, message };
    this.#push(update);
    return update.update_id;
  }

  /** Queues an update for getUpdates; a type the bot did not ask for is dropped, as Telegram does. */
  #push(update: Update): void {
    const type = update.message ? "message" : "callback_query";
    if (!this.#allowedUpdates.includes(type)) return;
    this.#updates.push(update);
    this.#answerPoller();
  }

  /** Resolves once at least `count` messages were sent (optionally to one chat). */
  async waitForMessages(
    count: number,
    options: { chat?: number; timeoutMs?: number } = {},
  ): Promise<SentMessage[]> {
    const current = () => (options.chat === undefined ? this.sent : this.messagesTo(options.chat));
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    while (current().length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`waited for ${count} Telegram messages, got ${current().length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
    return current();
  }

  async stop(): Promise<void> {
    if (this.#poller) {
      clearTimeout(this.#poller.timer);
      this.#poller.respond(200, { ok: true, result: [] });
      this.#poller = undefined;
    }
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, "close").catch(() => undefined);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const respond = (status: number, body: unknown) => {
      if (res.writableEnded) return;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return respond(404, fail(404, "Not Found"));
    let params: Record<string, unknown>;
    try {
      params = { ...Object.fromEntries(url.searchParams), ...(await readParams(req)) };
    } catch {
      return respond(400, fail(400, "Bad Request: invalid JSON in request body"));
    }
    if (decodeURIComponent(match[1]!) !== this.token) return respond(401, fail(401, "Unauthorized"));
    const method = match[2]!;
    this.calls.push({ method, params });
    const hang = this.#hangs.find((h) => h.method === method.toLowerCase() && h.left > 0);
    if (hang) {
      hang.left--;
      return; // the connection stays open until the client gives up or stop() closes it
    }
    if (this.#outage && method.toLowerCase() === "sendmessage") {
      if (this.#outage === "refuse") return void req.socket.destroy();
      const e = this.#outage;
      const parameters = e.retry_after === undefined ? undefined : { retry_after: e.retry_after };
      return respond(e.error_code, fail(e.error_code, e.description ?? defaultDescription(e), parameters));
    }
    const injected = this.#takeError(method, params);
    if (injected) {
      const description = injected.description ?? defaultDescription(injected);
      const parameters =
        injected.retry_after === undefined ? undefined : { retry_after: injected.retry_after };
      return respond(injected.error_code, fail(injected.error_code, description, parameters));
    }
    if (method.toLowerCase() === "getupdates") return this.#getUpdates(params, respond);
    const { status, body } = this.#call(method.toLowerCase(), params);
    respond(status, body);
  }

  #takeError(method: string, params: Record<string, unknown>): InjectedError | undefined {
    const index = this.#errors.findIndex(
      ({ method: m, error }) =>
        m.toLowerCase() === method.toLowerCase() &&
        (error.chat === undefined || Number(params.chat_id) === error.chat),
    );
    if (index < 0) return undefined;
    const entry = this.#errors[index]!;
    entry.error.times = (entry.error.times ?? 1) - 1;
    if (entry.error.times <= 0) this.#errors.splice(index, 1);
    return entry.error;
  }

  #call(method: string, params: Record<string, unknown>): { status: number; body: unknown } {
    switch (method) {
      case "getme":
        return ok(BOT);
      case "deletewebhook":
        return ok(true);
      case "getwebhookinfo":
        return ok({ url: "", has_custom_certificate: false, pending_update_count: this.#updates.length });
      case "setmycommands":
        return this.#setMyCommands(params);
      case "getmycommands":
        return ok(this.commands);
      case "sendmessage":
        return this.#sendMessage(params);
      case "answercallbackquery":
        return this.#answerCallbackQuery(params);
      case "editmessagereplymarkup":
        return this.#editReplyMarkup(params);
      default:
        return { status: 404, body: fail(404, "Not Found: method not found") };
    }
  }

  #setMyCommands(params: Record<string, unknown>) {
    const commands = parseMaybeJSON(params.commands);
    if (!Array.isArray(commands)) return bad('field "commands" must be an Array');
    if (commands.length > 100) return bad("too many commands");
    for (const command of commands as { command?: unknown; description?: unknown }[]) {
      if (typeof command.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(command.command)) {
        return bad("BOT_COMMAND_INVALID");
      }
      if (
        typeof command.description !== "string" ||
        command.description.length < 1 ||
        command.description.length > 256
      ) {
        return bad("BOT_COMMAND_DESCRIPTION_INVALID");
      }
    }
    this.commands = commands;
    return ok(true);
  }

  #sendMessage(params: Record<string, unknown>) {
    const chatID = params.chat_id;
    if (chatID === undefined || chatID === "") return bad("chat_id is empty");
    const chat = this.#chats.get(Number(chatID));
    if (!chat) return bad("chat not found");
    const blocked = this.#blocked.get(chat.id);
    if (blocked) return { status: 403, body: fail(403, blocked) };
    const raw = params.text;
    if (typeof raw !== "string" || raw.trim() === "") return bad("message text is empty");
    const parseMode = params.parse_mode as string | undefined;
    let text = raw;
    let entities: MessageEntity[] = [];
    try {
      if (parseMode === "HTML") ({ text, entities } = parseHtml(raw));
      else if (parseMode === "MarkdownV2") checkMarkdownV2(raw);
      else if (parseMode !== undefined && parseMode !== "" && parseMode !== "Markdown") {
        return bad("unsupported parse_mode");
      }
    } catch (err) {
      if (err instanceof ParseError) return bad(`can't parse entities: ${err.message}`);
      throw err;
    }
    if (text.trim() === "") return bad("message text is empty");
    if (text.length > MESSAGE_LIMIT) return bad("message is too long");
    const markup = parseMarkup(params.reply_markup);
    if (typeof markup === "string") return bad(markup);
    const retryAfter = this.#rateLimited(chat);
    if (retryAfter !== undefined) {
      return {
        status: 429,
        body: fail(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter }),
      };
    }
    const message: SentMessage = {
      message_id: this.#nextMessage++,
      chat_id: chat.id,
      text,
      entities,
      date: Math.floor(this.#options.now() / 1000),
      ...(parseMode ? { parse_mode: parseMode } : {}),
      ...(markup ? { reply_markup: markup } : {}),
    };
    this.sent.push(message);
    this.events.emit("message", message);
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    return ok({
      message_id: message.message_id,
      from: BOT,
      chat,
      date: message.date,
      text,
      ...(entities.length ? { entities } : {}),
    });
  }

  #answerCallbackQuery(params: Record<string, unknown>) {
    const id = String(params.callback_query_id ?? "");
    const open = this.#openQueries.get(id);
    // Telegram wants an answer within about 15 seconds, and only one.
    if (!open || this.#options.now() - open.at > 15_000)
      return bad("query is too old and response timeout expired or query ID is invalid");
    this.#openQueries.delete(id);
    if (params.text !== undefined && (typeof params.text !== "string" || params.text.length > 200))
      return bad("MESSAGE_TOO_LONG");
    const answer: CallbackAnswer = {
      callback_query_id: id,
      ...(typeof params.text === "string" ? { text: params.text } : {}),
      ...(params.show_alert !== undefined
        ? { show_alert: params.show_alert === true || params.show_alert === "true" }
        : {}),
    };
    this.callbackAnswers.push(answer);
    this.events.emit("answered", answer);
    return ok(true);
  }

  #editReplyMarkup(params: Record<string, unknown>) {
    const message = this.sent.find(
      (m) => m.message_id === Number(params.message_id) && m.chat_id === Number(params.chat_id),
    );
    if (!message) return bad("message to edit not found");
    const markup = parseMarkup(params.reply_markup);
    if (typeof markup === "string") return bad(markup);
    if (JSON.stringify(markup) === JSON.stringify(message.reply_markup))
      return bad(
        "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
      );
    if (markup) message.reply_markup = markup;
    else delete message.reply_markup;
    this.events.emit("edited", message);
    return ok({
      message_id: message.message_id,
      chat: this.#chats.get(message.chat_id),
      date: message.date,
      text: message.text,
    });
  }

  /** Seconds to wait when this message would break the chat's limits; records it otherwise. */
  #rateLimited(chat: FakeChat): number | undefined {
    const now = this.#options.now();
    const history = (this.#history.get(chat.id) ?? []).filter((t) => now - t < 60_000);
    const interval = this.#options.perChatIntervalMs;
    const last = history[history.length - 1];
    if (interval > 0 && last !== undefined && now - last < interval) {
      return Math.max(1, Math.ceil((interval - (now - last)) / 1000));
    }
    const group = chat.type !== "private";
    const perMinute = this.#options.groupPerMinute;
    if (perMinute > 0 && group && history.length >= perMinute) {
      return Math.max(1, Math.ceil((60_000 - (now - history[0]!)) / 1000));
    }
    this.#recent = this.#recent.filter((t) => now - t < 1000);
    const perSecond = this.#options.globalPerSecond;
    if (perSecond > 0 && this.#recent.length >= perSecond) return 1;
    this.#recent.push(now);
    history.push(now);
    this.#history.set(chat.id, history);
    return undefined;
  }

  #getUpdates(params: Record<string, unknown>, respond: (status: number, body: unknown) => void): void {
    const allowed = parseMaybeJSON(params.allowed_updates);
    if (Array.isArray(allowed))
      this.#allowedUpdates = allowed.length === 0 ? DEFAULT_UPDATES : (allowed as string[]);
    const offset = Number(params.offset ?? 0);
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)));
    const timeout = Math.max(0, Number(params.timeout ?? 0));
    // Like the real server: a newer getUpdates call ends the one waiting with 409.
    if (this.#poller) {
      clearTimeout(this.#poller.timer);
      this.#poller.respond(
        409,
        fail(
          409,
          "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        ),
      );
      this.#poller = undefined;
    }
    if (offset > 0) this.#updates = this.#updates.filter((update) => update.update_id >= offset);
    const ready = this.#updates.slice(0, limit);
    if (ready.length > 0 || timeout === 0) {
      respond(200, { ok: true, result: ready });
      return;
    }
    const poller: Poller = {
      offset,
      limit,
      respond,
      timer: setTimeout(() => {
        if (this.#poller === poller) this.#poller = undefined;
        respond(200, { ok: true, result: [] });
      }, timeout * 1000),
    };
    poller.timer.unref();
    this.#poller = poller;
  }

  #answerPoller(): void {
    const poller = this.#poller;
    if (!poller) return;
    const ready = this.#updates.filter((update) => update.update_id >= poller.offset).slice(0, poller.limit);
    if (ready.length === 0) return;
    clearTimeout(poller.timer);
    this.#poller = undefined;
    poller.respond(200, { ok: true, result: ready });
  }
}

function ok(result: unknown) {
  return { status: 200, body: { ok: true, result } };
}

function defaultDescription(error: InjectedError): string {
  switch (error.error_code) {
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden: bot was blocked by the user";
    case 429:
      return `Too Many Requests: retry after ${error.retry_after ?? 1}`;
    default:
      return error.error_code >= 500 ? "Internal Server Error" : "Bad Request";
  }
}

/** An inline keyboard as Telegram checks it; a string is the Bad Request description. */
function parseMarkup(value: unknown): { inline_keyboard: InlineButton[][] } | undefined | string {
  if (value === undefined) return undefined;
  const markup = parseMaybeJSON(value) as { inline_keyboard?: unknown } | null;
  if (!markup || typeof markup !== "object") return "can't parse reply keyboard markup JSON object";
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r)))
    return 'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays';
  for (const button of rows.flat() as InlineButton[]) {
    if (typeof button?.text !== "string" || button.text === "") return "BUTTON_TEXT_INVALID";
    const data = button.callback_data;
    if (data === undefined && button.url === undefined)
      return 'can\'t find field "text" or any action in InlineKeyboardButton';
    if (
      data !== undefined &&
      (typeof data !== "string" || Buffer.byteLength(data) < 1 || Buffer.byteLength(data) > 64)
    )
      return "BUTTON_DATA_INVALID";
  }
  return { inline_keyboard: rows as InlineButton[][] };
}

function parseMaybeJSON(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  if (!body) return {};
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/json")) return JSON.parse(body) as Record<string, unknown>;
  if (type.includes("application/x-www-form-urlencoded"))
    return Object.fromEntries(new URLSearchParams(body));
  return {};
}
