// One sendMessage through telegraf, its answer classified into what the chat queue does next.
// A 400 "can't parse entities" is answered here by resending the plain-text form.
import { Telegram } from "telegraf";
import type { ChatReason } from "../../api/reasons.ts";
import type { ChatMessage } from "./format.ts";

export type SendOutcome =
  | { kind: "sent"; messageID: number }
  /** Try again after afterMs (429 retry_after, 5xx, network): nothing was delivered. */
  | { kind: "retry"; afterMs?: number; reason: ChatReason; message?: string }
  /** Never send to this chat again until someone changes the configuration (403, chat not found). */
  | { kind: "blocked"; reason: ChatReason; message: string }
  /** This message cannot be delivered (bad token, message rejected); others may. */
  | { kind: "failed"; reason: ChatReason; message: string };

export interface ChatSender {
  send(chat: string, message: ChatMessage): Promise<SendOutcome>;
}

interface TelegramErrorLike {
  response?: { error_code?: number; description?: string; parameters?: { retry_after?: number } };
}

export function classifyError(err: unknown): SendOutcome {
  const response = (err as TelegramErrorLike).response;
  const code = response?.error_code;
  const description = response?.description ?? String((err as Error)?.message ?? err);
  if (code === undefined) return { kind: "retry", reason: "NetworkError", message: description };
  if (code === 429) {
    const seconds = response?.parameters?.retry_after;
    return {
      kind: "retry",
      reason: "TooManyRequests",
      afterMs: seconds === undefined ? undefined : seconds * 1000,
    };
  }
  if (code >= 500) return { kind: "retry", reason: "ServerError", message: `${code} ${description}` };
  if (code === 403) return { kind: "blocked", reason: "Forbidden", message: description };
  if (code === 400 && /chat not found/i.test(description)) {
    return { kind: "blocked", reason: "ChatNotFound", message: description };
  }
  if (code === 401) return { kind: "failed", reason: "Unauthorized", message: description };
  return { kind: "failed", reason: "BadRequest", message: description };
}

const isParseError = (err: unknown) => {
  const response = (err as TelegramErrorLike).response;
  return response?.error_code === 400 && /can't parse entities/i.test(response.description ?? "");
};

export interface TelegramSenderOptions {
  token: string;
  /** Bot API root; https://api.telegram.org by default. */
  apiRoot?: string;
}

export function createTelegramClient(options: TelegramSenderOptions): Telegram {
  return new Telegram(options.token, { apiRoot: options.apiRoot ?? "https://api.telegram.org" });
}

export class TelegramSender implements ChatSender {
  readonly telegram: Telegram;
  readonly #timeoutMs: number;

  constructor(telegram: Telegram, options: { timeoutMs?: number } = {}) {
    this.telegram = telegram;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async send(chat: string, message: ChatMessage): Promise<SendOutcome> {
    const markup = message.buttons?.length
      ? {
          inline_keyboard: message.buttons.map((row) =>
            row.map((b) => ({ text: b.text, callback_data: b.data })),
          ),
        }
      : undefined;
    try {
      return await this.#send(chat, message.html, markup, "HTML");
    } catch (err) {
      if (!isParseError(err)) return classifyError(err);
    }
    try {
      return await this.#send(chat, message.text, markup);
    } catch (err) {
      return classifyError(err);
    }
  }

  async #send(
    chat: string,
    text: string,
    markup: object | undefined,
    parseMode?: "HTML",
  ): Promise<SendOutcome> {
    // telegraf waits 500 s by default; a hung request must not hold the chat's queue that long.
    // A timed-out request counts as not delivered (retried), the same side as a crash mid-request.
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const sent = await this.telegram.callApi(
      "sendMessage",
      {
        chat_id: chat,
        text,
        link_preview_options: { is_disabled: true },
        ...(parseMode ? { parse_mode: parseMode } : {}),
        ...(markup ? { reply_markup: markup as never } : {}),
      },
      { signal: signal as never },
    );
    return { kind: "sent", messageID: sent.message_id };
  }
}
