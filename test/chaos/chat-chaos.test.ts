// The chat chaos run in the test command (the short schedule: see chat-chaos.ts; `npm run chaos` runs the
// long one). Builds finish through more than a minute of Telegram 429s, 500s and dropped connections, a
// GitHub outage and two SIGKILLs of the controller; nothing is lost, nothing said twice.
import { test } from "node:test";
import { assertNothingLost, formatCounts, runChatChaos, SHORT } from "./chat-chaos.ts";

test("chat chaos: every finished build announced exactly once per chat, one final commit status", {
  timeout: 420_000,
}, async () => {
  const counts = await runChatChaos(SHORT);
  console.log(formatCounts(counts));
  assertNothingLost(counts);
});
