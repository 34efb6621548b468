// The build page's one script (served as a file: the page's Content-Security-Policy allows no inline
// script). It follows the build's log as server-sent events and appends each piece as text — never as
// HTML — under its step, adding a part for a step that started after the page was rendered.

(() => {
  const logs = document.getElementById("logs");
  const url = logs?.dataset.events;
  if (!logs || !url) return;
  const status = document.getElementById("log-status");
  const say = (text) => {
    if (status) status.textContent = text;
  };

  /** The <pre> of step number `index` (named `name`), made when the page has none yet. */
  function preOf(index, name) {
    let part = document.getElementById(`log-${index}`);
    if (!part) {
      part = document.createElement("details");
      part.className = "step-log";
      part.id = `log-${index}`;
      part.dataset.step = name;
      part.open = true;
      const summary = document.createElement("summary");
      summary.textContent = name;
      const pre = document.createElement("pre");
      pre.className = "log";
      part.append(summary, pre);
      logs.append(part);
    }
    return part.querySelector("pre");
  }

  const source = new EventSource(url);
  source.addEventListener("open", () =>
    say(logs.dataset.finished === "true" ? "Log:" : "Following the log…"),
  );
  source.addEventListener("log", (event) => {
    const piece = JSON.parse(event.data);
    const pre = preOf(piece.step, piece.name);
    // Keep the view at the bottom while the reader is there.
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 4;
    pre.append(document.createTextNode(piece.text));
    pre.closest("details")?.classList.add("has-log");
    if (atBottom && logs.dataset.finished !== "true") window.scrollTo(0, document.body.scrollHeight);
  });
  source.addEventListener("end", (event) => {
    source.close();
    const end = JSON.parse(event.data);
    logs.dataset.ended = "true";
    if (logs.dataset.finished === "true") say(`Log complete (${end.reason}).`);
    else {
      // The build ended while the page was open: its phase and steps above are from before.
      say(`The build ended (${end.phase}): `);
      const reload = document.createElement("a");
      reload.href = window.location.pathname;
      reload.textContent = "reload for its result";
      status?.append(reload);
    }
  });
  source.addEventListener("error", () => {
    // EventSource tries again by itself (from the last event's id); say so meanwhile.
    if (logs.dataset.ended !== "true") say("The log's connection dropped; reconnecting…");
  });
})();
