// The Telegram bot: long polling (getUpdates against the configured API root), answered only in chats
// that some Repository announces to, and only about those Repositories. Anyone else gets silence: a bot
// that answers strangers tells them what exists. /builds and /log are for everyone in those chats; the
// control commands (/rerun, /cancel, /hold, /release, /approve, and the buttons under paused and
// waiting builds) for the Repository's admins only, and they act through the Build (an annotation or
// spec.cancel), so `kubectl describe build` shows who did what. Every command is answered.
import { type Context, Telegraf } from "telegraf";
import type { Build } from "../../api/build.ts";
import { manualBuildName, rerunOf } from "../../api/new-build.ts";
import { CONTAINERS } from "../../api/pod-protocol.ts";
import type { Repository } from "../../api/repository.ts";
import { tailBuildLog } from "../../lib/build-log.ts";
import { httpStatus, isNotFound } from "../../lib/kube-errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { StoreClient } from "../../lib/store-client.ts";
import { parseButtonData } from "./buttons.ts";
import {
  BOT_COMMANDS,
  type ChatUser,
  CONTROL_COMMANDS,
  type ControlCommand,
  commandArgument,
  findRepository,
  formatBuildList,
  formatLogTail,
  HELP,
  mayControl,
  planControl,
  refusal,
  repositoriesOfChat,
  who,
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
  /** `kiln store`: /log reads a build's log there first (it outlives the pod). */
  store?: StoreClient;
  /** How long /log waits for the store before it answers from the pod's log (default 5 s). */
  storeReadMs?: number;
}

/** Tries of one answer in the chat (waiting out 429s and brief outages in between). */
const REPLY_ATTEMPTS = 5;

const defaultName = (original: Build) =>
  manualBuildName(original.spec.repository, original.spec.revision.sha);

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
    this.bot.command("log", (ctx) => this.#log(ctx));
    for (const command of CONTROL_COMMANDS) this.bot.command(command, (ctx) => this.#control(ctx, command));
    this.bot.on("callback_query", (ctx) => this.#button(ctx));
    this.bot.catch(async (err, ctx) => {
      options.log.error({ err, chat: ctx.chat?.id }, "bot command failed");
      await this.#reply(ctx, "Sorry, that did not work; the error is in Kiln's log.").catch(() => undefined);
    });
  }

  /** Starts long polling; resolves once the bot is connected. */
  async start(): Promise<void> {
    await this.bot.telegram.setMyCommands(BOT_COMMANDS.map((c) => ({ ...c })));
    const launched = Promise.withResolvers<void>();
    this.#running = this.bot.launch({ allowedUpdates: ["message", "callback_query"] }, () =>
      launched.resolve(),
    );
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
    return name ? this.#buildNamed(ctx, name) : undefined;
  }

  #user(ctx: Context): ChatUser {
    return { id: ctx.from?.id ?? 0, ...(ctx.from?.username ? { username: ctx.from.username } : {}) };
  }

  #repositoryOf(ctx: Context, build: Build): Repository | undefined {
    return this.#allowed(ctx).find(
      (r) => r.metadata.name === build.spec.repository && r.metadata.namespace === build.metadata.namespace,
    );
  }

  /** Does what an admin asked to a build and says what happened, or says why not. */
  async #act(
    ctx: Context,
    command: ControlCommand,
    build: Build,
    argument: string,
  ): Promise<{ text: string; acted: boolean }> {
    const user = this.#user(ctx);
    const repository = this.#repositoryOf(ctx, build)!;
    if (!mayControl(repository, user)) return { text: refusal(command, repository, user), acted: false };
    const namespace = build.metadata.namespace ?? "default";
    const plan = planControl(command, build, user, Date.now(), argument);
    if (plan.kind === "refuse") return { text: plan.reply, acted: false };
    if (plan.kind === "patch") {
      await this.#o.api.patchBuild(namespace, build.metadata.name ?? "", plan.patch);
      this.#o.log.info({ namespace, build: build.metadata.name, command, from: who(user) }, "chat command");
      return { text: plan.reply, acted: true };
    }
    const name = (this.#o.newName ?? defaultName)(build);
    const created = await this.#o.api.createBuild(
      namespace,
      rerunOf(build, repository, name, `telegram:${who(user)}`, true),
    );
    if (created === "exists")
      return {
        text: `A build named <code>${escapeHtml(name)}</code> exists already; try again.`,
        acted: false,
      };
    this.#o.log.info({ namespace, build: name, of: build.metadata.name, from: who(user) }, "rerun requested");
    return {
      text: `Started <code>${escapeHtml(name)}</code>, a rerun of <code>${escapeHtml(build.metadata.name ?? "")}</code>.`,
      acted: true,
    };
  }

  async #control(ctx: Context, command: ControlCommand): Promise<void> {
    const [name = "", ...rest] = commandArgument(ctx.text ?? "").split(/\s+/);
    const build = name ? await this.#buildNamed(ctx, name) : undefined;
    if (!build) {
      await this.#reply(
        ctx,
        name
          ? `No build <code>${escapeHtml(name)}</code> of a repository announced in this chat.`
          : `Usage: /${command} &lt;build&gt; — a build of a repository announced in this chat.`,
      );
      return;
    }
    await this.#reply(ctx, (await this.#act(ctx, command, build, rest.join(" "))).text);
  }

  /** A button under a paused or waiting build: answered on the button, and said in the chat when it acted. */
  async #button(ctx: Context): Promise<void> {
    const data = ctx.callbackQuery && "data" in ctx.callbackQuery ? ctx.callbackQuery.data : "";
    const parsed = parseButtonData(data);
    const build = parsed && (await this.#buildByUid(ctx, parsed.uid));
    if (!parsed || !build) {
      await ctx.answerCbQuery("That build is gone.");
      return;
    }
    const { text, acted } = await this.#act(ctx, parsed.action, build, "");
    // The answer on the button is plain text, at most 200 characters.
    await ctx.answerCbQuery(
      text
        .replace(/<[^>]+>/g, "")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&")
        .slice(0, 200),
    );
    if (acted) {
      // The buttons have done their job; the chat sees who pressed and what happened.
      await ctx.editMessageReplyMarkup(undefined).catch(() => undefined);
      await this.#reply(ctx, text);
    }
  }

  async #buildNamed(ctx: Context, name: string): Promise<Build | undefined> {
    for (const repository of this.#allowed(ctx)) {
      const build = await this.#o.api.getBuild(repository.metadata.namespace ?? "default", name);
      if (build && build.spec.repository === repository.metadata.name) return build;
    }
    return undefined;
  }

  async #buildByUid(ctx: Context, uid: string): Promise<Build | undefined> {
    const namespaces = new Set(this.#allowed(ctx).map((r) => r.metadata.namespace ?? "default"));
    for (const namespace of namespaces) {
      const build = (await this.#o.api.listBuilds(namespace)).find((b) => b.metadata.uid === uid);
      if (build && this.#repositoryOf(ctx, build)) return build;
    }
    return undefined;
  }

  /**
   * A Build that is gone may have left its log in the store: shown when the store recorded it as a build of a
   * repository announced in this chat (and to no other chat).
   */
  async #logOfDeletedBuild(ctx: Context): Promise<{ name: string; log: string } | undefined> {
    const name = commandArgument(ctx.text ?? "");
    const store = this.#o.store;
    if (!name || !store) return undefined;
    for (const repository of this.#allowed(ctx)) {
      const ref = { namespace: repository.metadata.namespace ?? "default", build: name };
      try {
        const signal = AbortSignal.timeout(this.#o.storeReadMs ?? 5000);
        const logs = await store.buildLogs(ref, { signal });
        if (!logs || logs.repository !== repository.metadata.name) continue;
        const log = await tailBuildLog(store, ref, this.#o.logLines ?? 50, { signal, listed: logs.steps });
        if (log !== undefined) return { name, log };
      } catch (err) {
        this.#o.log.warn({ err: (err as Error).message, build: name }, "cannot read the log from the store");
      }
    }
    return undefined;
  }

  async #log(ctx: Context): Promise<void> {
    const build = await this.#findBuild(ctx);
    if (!build) {
      const gone = await this.#logOfDeletedBuild(ctx);
      if (gone) {
        await this.#reply(ctx, formatLogTail(gone.name, gone.log, this.#o.logLines ?? 50));
        return;
      }
      await this.#reply(ctx, "Usage: /log &lt;build&gt; — a build of a repository announced in this chat.");
      return;
    }
    const pod = build.status?.podName;
    const name = build.metadata.name ?? "";
    const namespace = build.metadata.namespace ?? "default";
    const lines = this.#o.logLines ?? 50;
    let log: string | undefined;
    if (this.#o.store) {
      try {
        const order = build.status?.steps?.map((s) => s.name);
        log = await tailBuildLog(this.#o.store, { namespace, build: name }, lines, {
          ...(order ? { order } : {}),
          // A store that does not answer must not keep the chat waiting: the pod's log is asked next.
          signal: AbortSignal.timeout(this.#o.storeReadMs ?? 5000),
        });
      } catch (err) {
        // The pod's own log may still be there: say why the store's was not, and try that.
        this.#o.log.warn({ err: (err as Error).message, build: name }, "cannot read the log from the store");
      }
    }
    if (log === undefined && !pod) {
      await this.#reply(ctx, `<code>${escapeHtml(name)}</code> has no pod (yet).`);
      return;
    }
    if (log === undefined && pod) {
      try {
        // The build container's stdout is the steps' output (the agent echoes it there).
        log = await this.#o.api.podLogTail(namespace, pod, CONTAINERS.build, lines);
      } catch (err) {
        if (!isNotFound(err) && httpStatus(err) !== 400) throw err;
      }
    }
    if (log === undefined) {
      await this.#reply(ctx, `The log of <code>${escapeHtml(name)}</code> is gone (its pod was deleted).`);
      return;
    }
    await this.#reply(ctx, formatLogTail(name, log, this.#o.logLines ?? 50));
  }
}
