// Pure: the buttons under interactive chat messages and what a press says. Telegram hands back at most
// 64 bytes of callback data, so a button names its action and the Build's uid (36 characters), never
// names that could be longer; the bot finds the Build by uid among the chat's Repositories.
export const BUTTON_ACTIONS = ["release", "cancel", "approve"] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export function buttonData(action: ButtonAction, uid: string): string {
  return `${action}:${uid}`;
}

export function parseButtonData(data: string): { action: ButtonAction; uid: string } | undefined {
  const m = /^([a-z]+):([0-9a-zA-Z-]{1,60})$/.exec(data);
  if (!m || !(BUTTON_ACTIONS as readonly string[]).includes(m[1]!)) return undefined;
  return { action: m[1] as ButtonAction, uid: m[2]! };
}
