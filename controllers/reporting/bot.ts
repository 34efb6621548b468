// The Telegram bot: long polling (getUpdates against the configured API root) and three commands,
// answered only in chats that some Repository announces to, and only about those Repositories.
// Anyone else gets silence: a bot that answers strangers tells them what exists.
import { randomBytes } from "node:crypto";
import { type Context, Telegraf } from "telegraf";
import { CONTAINERS } from "../../agent/pod-protocol.ts";
import type { Build } from "../../api/build.ts";
import type { Repository } from "../../api/repository.ts";
import { httpStatus, isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import {
  BOT_COMMANDS,
  commandArgument,
  findRepository,
  formatBuildList,
  formatLogTail,
  HELP,
  rebuildOf,
  repositoriesOfChat,
} from "./commands.ts";
import { escapeHtml } from "./format.ts";
import type { ReportingApi } from "./kube.ts";
import { classifyError } from "./telegram.ts";

export interface BotOptions {
  token: string;
  apiRoot?: string;
  api: ReportingApi;
  log: Logger;
  /** Namespaces to look in; every namespace when empty or absent. */
  namespaces?: readonly string[];
  /** Names new Builds; random by default. */
  newName?: (original: Build) => string;
  logLines?: number;
}

/** Tries of one answer in the chat (waiting out 429s and brief outages in between). */
const REPLY_ATTEMPTS = 5;

const defaultName = (original: Build) =>
  `${original.spec.repository}-${original.spec.revision.sha.slice(0, 7)}-manual-${randomBytes(3).toString("hex")}`;

export class KilnBot {
  readonly bot: Telegraf;
  readonly #o: BotOptions;
  #running?: Promise<void>;

  constructor(options: BotOptions) {
    this.#o = options;
    this.bot = new Telegraf(options.token, {
      telegram: { apiRoot: options.apiRoot ?? "https://api.telegram.org" },
      handlerTimeout: 30_000,
    });
    this.bot.use(async (ctx, next) => {
      const chat = ctx.chat?.id;
      if (chat === undefined) return;
      const repositories = repositoriesOfChat(await this.#repositories(), String(chat));
      if (repositories.length === 0) {
        options.log.info({ chat }, "ignoring a message from a chat no Repository announces to");
        return;
      }
      ctx.state.repositories = repositories;
      await next();
    });
    this.bot.command(["help", "start"], (ctx) => this.#reply(ctx, HELP));
    this.bot.command("builds", (ctx) => this.#builds(ctx));
    this.bot.command("rebuild", (ctx) => this.#rebuild(ctx));
    this.bot.command("log", (ctx) => this.#log(ctx));
    this.bot.catch(async (err, ctx) => {
      options.log.error({ err, chat: ctx.chat?.id }, "bot command failed");
      await this.#reply(ctx, "Sorry, that did not work; the error is in Kiln's log.").catch(() => undefined);
    });
  }

  /** Starts long polling; resolves once the bot is connected. */
  async start(): Promise<void> {
    await this.bot.telegram.setMyCommands(BOT_COMMANDS.map((c) => ({ ...c })));
    const launched = Promise.withResolvers<void>();
    this.#running = this.bot.launch({ allowedUpdates: ["message"] }, () => launched.resolve());
    this.#running.catch((err) => {
      launched.reject(err);
      this.#o.log.error({ err }, "Telegram long polling stopped");
    });
    await launched.promise;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    // telegraf reports "launched" before its polling loop exists, and refuses to stop until it does.
    for (let attempt = 0; ; attempt++) {
      try {
        this.bot.stop("shutdown");
        break;
      } catch (err) {
        if (attempt >= 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await this.#running.catch(() => undefined);
    this.#running = undefined;
  }

  async #repositories(): Promise<Repository[]> {
    const namespaces = this.#o.namespaces ?? [];
    if (namespaces.length === 0) return this.#o.api.listRepositories();
    return (await Promise.all(namespaces.map((ns) => this.#o.api.listRepositories(ns)))).flat();
  }

  /**
   * Answers in the chat. Telegram's limits apply to answers too: a 429 is waited out (retry_after) and
   * the answer sent then, a few times at most, so a quick second command still gets its answer.
   */
  async #reply(ctx: Context, html: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await ctx.reply(html, { parse_mode: "HTML", link_preview_options: { is_disabled: true } });
        return;
      } catch (err) {
        const outcome = classifyError(err);
        if (outcome.kind !== "retry" || attempt >= REPLY_ATTEMPTS) throw err;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(outcome.afterMs ?? 1000 * attempt, 60_000)),
        );
      }
    }
  }

  #allowed(ctx: Context): Repository[] {
    return ctx.state.repositories as Repository[];
  }

  async #builds(ctx: Context): Promise<void> {
    const allowed = this.#allowed(ctx);
    const name = commandArgument(ctx.text ?? "");
    const repository = name ? findRepository(allowed, name) : allowed.length === 1 ? allowed[0] : undefined;
    if (!repository) {
      const names = allowed.map((r) => `<code>${escapeHtml(r.metadata.name ?? "")}</code>`).join(", ");
      await this.#reply(ctx, `Usage: /builds &lt;repository&gt;, one of ${names}`);
      return;
    }
    const builds = await this.#o.api.listBuilds(repository.metadata.namespace ?? "default");
    await this.#reply(ctx, formatBuildList(repository, builds));
  }

  /** A Build this chat may see: its Repository announces here. */
  async #findBuild(ctx: Context): Promise<Build | undefined> {
    const name = commandArgument(ctx.text ?? "");
    if (!name) return undefined;
    for (const repository of this.#allowed(ctx)) {
      const build = await this.#o.api.getBuild(repository.metadata.namespace ?? "default", name);
      if (build && build.spec.repository === repository.metadata.name) return build;
    }
    return undefined;
  }

  async #rebuild(ctx: Context): Promise<void> {
    const original = await this.#findBuild(ctx);
    if (!original) {
      await this.#reply(
        ctx,
        "Usage: /rebuild &lt;build&gt; — a build of a repository announced in this chat.",
      );
      return;
    }
    const from = ctx.from?.username ?? String(ctx.from?.id ?? "unknown");
    const name = (this.#o.newName ?? defaultName)(original);
    const namespace = original.metadata.namespace ?? "default";
    const created = await this.#o.api.createBuild(namespace, rebuildOf(original, name, `telegram:${from}`));
    this.#o.log.info(
      { namespace, build: created.metadata.name, of: original.metadata.name, from },
      "rebuild requested",
    );
    await this.#reply(
      ctx,
      `Started <code>${escapeHtml(created.metadata.name ?? name)}</code>, a rebuild of <code>${escapeHtml(original.metadata.name ?? "")}</code>.`,
    );
  }

  async #log(ctx: Context): Promise<void> {
    const build = await this.#findBuild(ctx);
    if (!build) {
      await this.#reply(ctx, "Usage: /log &lt;build&gt; — a build of a repository announced in this chat.");
      return;
    }
    const pod = build.status?.podName;
    const name = build.metadata.name ?? "";
    if (!pod) {
      await this.#reply(ctx, `<code>${escapeHtml(name)}</code> has no pod (yet).`);
      return;
    }
    const namespace = build.metadata.namespace ?? "default";
    let log: string | undefined;
    try {
      // The build container's stdout is the steps' output (the agent echoes it there).
      log = await this.#o.api.podLogTail(namespace, pod, CONTAINERS.build, this.#o.logLines ?? 50);
    } catch (err) {
      if (!isNotFound(err) && httpStatus(err) !== 400) throw err;
    }
    if (log === undefined) {
      await this.#reply(ctx, `The log of <code>${escapeHtml(name)}</code> is gone (its pod was deleted).`);
      return;
    }
    await this.#reply(ctx, formatLogTail(name, log, this.#o.logLines ?? 50));
  }
}
