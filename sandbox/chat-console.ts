// The sandbox console as a Telegram chat: what the bot says in the demo chat of the Telegram
// stand-in is printed (console.ts renders it), and every line read from the input becomes a message
// in that chat from the console's user (an admin of the demo Repository), or a press of one of the
// bot's buttons. Lines are read as lines whether the input is a terminal or a pipe (no raw mode: the
// terminal keeps its own line editing, and Ctrl-C stays a signal); the end of the input ends only
// the console, not the sandbox.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { FakeTelegram, TelegramUser } from "../stand-ins/telegram/server.ts";
import { CONSOLE, parseConsoleLine, renderAnswer, renderMessage, YOU } from "./console.ts";

export interface ChatConsoleOptions {
  telegram: FakeTelegram;
  chat: number;
  user: TelegramUser;
  input: Readable;
  /** Prints lines (the sandbox's stdout). */
  print: (lines: string[]) => void;
  ansi: boolean;
}

export interface ChatConsole {
  stop(): void;
}

export function startChatConsole(options: ChatConsoleOptions): ChatConsole {
  const { telegram, chat, user, print } = options;
  const onMessage = (message: Parameters<typeof renderMessage>[0] & { chat_id: number }) => {
    if (message.chat_id === chat) print(renderMessage(message, options.ansi));
  };
  // Answers carry no chat id; in the sandbox every press comes from this console.
  const onAnswered = (answer: { text?: string }) => print(renderAnswer(answer.text));
  telegram.events.on("message", onMessage);
  telegram.events.on("answered", onAnswered);

  const lines = createInterface({
    input: options.input,
    terminal: false,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let stopping = false;
  lines.on("line", (line) => {
    const action = parseConsoleLine(line, telegram.messagesTo(chat));
    switch (action.kind) {
      case "none":
        return;
      case "say":
        print([`${YOU}${action.text}`]);
        telegram.userSays(chat, action.text, user);
        return;
      case "press":
        print([`${YOU}[${action.label}]`]);
        try {
          telegram.userPresses(action.messageID, action.data, user);
        } catch (error) {
          // The buttons went in the meantime (someone else pressed one).
          print([`${CONSOLE}${(error as Error).message}`]);
        }
        return;
      case "error":
        print([`${CONSOLE}${action.message}`]);
    }
  });
  lines.on("close", () => {
    if (!stopping)
      print([`${CONSOLE}input closed: the chat console stops, the sandbox goes on (Ctrl-C stops it)`]);
  });
  return {
    stop() {
      stopping = true;
      telegram.events.off("message", onMessage);
      telegram.events.off("answered", onAnswered);
      lines.close();
      // A terminal or pipe still being read would keep the process alive after the sandbox stops.
      options.input.destroy();
    },
  };
}
