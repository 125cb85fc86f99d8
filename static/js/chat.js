/* The Chat page: renders the conversation from the #chat-history JSON and streams answers from the
   events websocket (see assistant/consumers.py). The composer is chat_composer.js, the list of chats
   and the header's settings chat_list.js, Markdown and sources chat_markdown.js.

   Token events carry `offset`, the UTF-16 length of the answer before their text (a JavaScript
   string's .length). A token is appended only where it continues the text; one that skips ahead
   is kept aside and the message is re-read with `message.get` until the two can be stitched. */
import { $, $all, setText, plural, on, send, fetchPage } from "./lib.js";
import { renderMarkdown, renderSources, renderImages, copyWithFeedback } from "./chat_markdown.js";
import { setTitle, listConversation } from "./chat_list.js";
import { renderPhotos } from "./chat_photos.js";
import * as composer from "./chat_composer.js";
import { renderLimit, continueAnswer } from "./chat_sampling.js";
import * as versions from "./chat_versions.js";

const ACTIVE = new Set(["queued", "streaming"]);
const FINAL = new Set(["complete", "incomplete", "failed"]);
const RENDER_EVERY_MS = 50;
const RESYNC_EVERY_MS = 400;
const CHAT_ACTIONS = new Set(["chat.send", "chat.stop", "chat.regenerate", "chat.continue"]);

const root = $("[data-chat]");
const conversationId = Number(root?.getAttribute("data-conversation"));
const hasModel = root?.getAttribute("data-has-model") === "1";
const scroller = $("[data-chat-scroll]");
const log = $("[data-chat-log]");
const jumpButton = $("[data-jump]");

const entries = new Map(); // id -> {data, el, fields, rendered}
const pendingTokens = new Map(); // id -> [{offset, text}] that arrived ahead of what we have
const resyncTimers = new Map();

/* -------------------------------------------------------------- messages */

const validPayload = (payload) =>
  payload &&
  typeof payload === "object" &&
  Number.isInteger(payload.id) &&
  typeof payload.content === "string" &&
  (payload.role === "user" || payload.role === "assistant");

function createEntry(payload) {
  const el = document.getElementById("chat-message-template").content.firstElementChild.cloneNode(true);
  el.id = `m${payload.id}`;
  el.setAttribute("data-message-id", String(payload.id));
  el.classList.add(payload.role === "user" ? "msg--user" : "msg--assistant");
  const fields = Object.fromEntries($all("[data-field]", el).map((node) => [node.getAttribute("data-field"), node]));
  const avatar = $(".msg__avatar", el);
  const logoUrl = root.getAttribute("data-logo");
  if (payload.role === "assistant" && logoUrl) {
    const logo = document.createElement("img");
    logo.src = logoUrl;
    logo.alt = "";
    avatar.append(logo);
  } else {
    avatar.textContent = root.getAttribute("data-user-initial") || "";
  }
  fields.who.textContent = payload.role === "user" ? "You" : "Hearth";
  const entry = { data: null, el, fields, rendered: null };
  // Keep the log in message order, whatever order the events arrive in.
  const later = [...entries.keys()].filter((id) => id > payload.id).sort((a, b) => a - b)[0];
  log.insertBefore(el, later === undefined ? null : entries.get(later).el);
  entries.set(payload.id, entry);
  return entry;
}

// The database is written every half second while an answer streams, so a re-read can be behind
// the tokens already shown: keep the longer text when the shorter one is its start.
function mergedContent(previous, payload) {
  if (!previous) return payload.content;
  const current = previous.content;
  const behind = current.length > payload.content.length && current.startsWith(payload.content);
  return ACTIVE.has(payload.state) && ACTIVE.has(previous.state) && behind ? current : payload.content;
}

function applyPayload(payload, { quiet = false } = {}) {
  if (!validPayload(payload) || payload.conversation !== conversationId) return null;
  let entry = entries.get(payload.id);
  const previous = entry ? entry.data : null;
  if (previous && FINAL.has(previous.state) && payload.state === "streaming" && previous.content.startsWith(payload.content)) {
    return entry; // an older snapshot than the final text we already have
  }
  if (!entry) entry = createEntry(payload);
  entry.data = { ...payload, content: mergedContent(previous, payload) };
  if (FINAL.has(entry.data.state)) pendingTokens.delete(payload.id);
  else drainTokens(entry);
  if (previous && ACTIVE.has(previous.state) && FINAL.has(entry.data.state) && !quiet) announceAnswer(entry);
  scheduleRender(entry);
  return entry;
}

// Returns false when the token starts beyond the text we have (a gap).
function appendToken(entry, offset, text) {
  const data = entry.data;
  const length = data.content.length;
  if (offset > length) return false;
  if (offset + text.length > length) {
    data.content += text.slice(length - offset);
    if (data.state === "queued") data.state = "streaming";
  }
  return true;
}

function drainTokens(entry) {
  const waiting = (pendingTokens.get(entry.data.id) || []).sort((a, b) => a.offset - b.offset);
  const rest = waiting.filter((token) => !appendToken(entry, token.offset, token.text));
  if (rest.length) pendingTokens.set(entry.data.id, rest);
  else pendingTokens.delete(entry.data.id);
}

function resync(id, force = false) {
  if (resyncTimers.has(id) && !force) return;
  send({ action: "message.get", id });
  clearTimeout(resyncTimers.get(id));
  resyncTimers.set(
    id,
    window.setTimeout(() => {
      resyncTimers.delete(id);
      if (pendingTokens.get(id)?.length) resync(id);
    }, RESYNC_EVERY_MS)
  );
}

function onToken(event) {
  if (event.conversation !== conversationId || !Number.isInteger(event.message)) return;
  if (typeof event.offset !== "number" || typeof event.text !== "string") return;
  const entry = entries.get(event.message);
  if (entry && FINAL.has(entry.data.state)) return; // the final text is already here
  if (entry && appendToken(entry, event.offset, event.text)) {
    scheduleRender(entry);
    return;
  }
  if (!pendingTokens.has(event.message)) pendingTokens.set(event.message, []);
  pendingTokens.get(event.message).push({ offset: event.offset, text: event.text });
  resync(event.message);
}

// A finished answer is read out once, by a fresh live region (a changed one may not be re-read).
function announceAnswer(entry) {
  const data = entry.data;
  const fresh = entry.fields.announce.cloneNode(false);
  let text = `The answer failed. ${data.error || ""}`;
  if (data.state !== "failed") {
    const body = (entry.fields.body.textContent || data.content || "").trim();
    text = (data.state === "incomplete" ? "Answer stopped early: " : "Answer: ") + body;
  }
  fresh.textContent = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  entry.fields.announce.replaceWith(fresh);
  entry.fields.announce = fresh;
}

/* ------------------------------------------------------------- rendering */

const dirty = new Set();
let frame = 0;
let frameTimer = 0;
let lastRender = 0;

function scheduleRender(entry) {
  dirty.add(entry);
  if (frame || frameTimer) return;
  const wait = RENDER_EVERY_MS - (performance.now() - lastRender);
  if (wait <= 0) {
    frame = window.requestAnimationFrame(flushRender);
    return;
  }
  frameTimer = window.setTimeout(() => {
    frameTimer = 0;
    frame = window.requestAnimationFrame(flushRender);
  }, wait);
}

function flushRender() {
  window.cancelAnimationFrame(frame);
  clearTimeout(frameTimer);
  frame = 0;
  frameTimer = 0;
  lastRender = performance.now();
  dirty.forEach(renderEntry);
  dirty.clear();
  refreshControls();
  if (pinned) scrollToBottom();
  else updateJump();
}

function stateText(data) {
  if (data.state === "queued") {
    const ahead = Number(data.queue_position) || 0;
    return ahead > 0 ? `Waiting for the model: ${plural(ahead, "answer", "answers")} ahead of yours` : "Starting…";
  }
  if (data.state === "streaming" && !data.content) return "Thinking…";
  if (data.state === "incomplete" && !data.content) return "Stopped before the model wrote anything.";
  return "";
}

function statsText(data) {
  if (data.role !== "assistant" || !FINAL.has(data.state) || !data.context_size) return "";
  const number = (value) => Number(value || 0).toLocaleString();
  const used = (Number(data.prompt_tokens) || 0) + (Number(data.completion_tokens) || 0);
  const parts = data.tokens_per_second ? [`${data.tokens_per_second} tokens/s`] : [];
  parts.push(`context: ${number(used)}/${number(data.context_size)}`);
  return parts.join(" · ");
}

function renderAnswerParts(entry) {
  const { data, fields } = entry;
  renderSources(fields.sources, fields["sources-list"], data.id, Array.isArray(data.sources) ? data.sources : []);
  renderPhotos(fields.photos, data.sources);
  setText(fields.model, data.model);
  const showBadge = data.state !== "complete";
  fields.state.hidden = !showBadge;
  if (showBadge) {
    fields.state.className = `badge badge--${data.state}`;
    fields.state.textContent = data.state === "queued" ? "Waiting" : data.state_label || data.state;
  }
  const waiting = stateText(data);
  fields.waiting.hidden = !waiting;
  fields.waiting.classList.toggle("msg__waiting--still", !ACTIVE.has(data.state));
  fields["waiting-text"].textContent = waiting;
  setText(fields.error, data.state === "failed" ? data.error || "The model could not answer." : "");
  fields["error-box"].hidden = data.state !== "failed";
  fields["notice-text"].textContent = data.notice || "";
  fields.notice.hidden = !data.notice;
  setText(fields.stats, statsText(data));
}

function renderEntry(entry) {
  const { data, el } = entry;
  const active = ACTIVE.has(data.state);
  el.classList.toggle("msg--streaming", data.state === "streaming" && !!data.content);
  el.classList.toggle("msg--failed", data.state === "failed");
  el.setAttribute("data-state", data.state);
  el.setAttribute("data-length", String(data.content.length));
  el.toggleAttribute("aria-busy", active);
  const renderKey = `${data.content}\u0000${Array.isArray(data.sources) ? data.sources.length : 0}`;
  if (entry.rendered !== renderKey) {
    if (data.role === "user") entry.fields.body.textContent = data.content;
    else renderMarkdown(entry.fields.body, data.content, data.sources);
    entry.rendered = renderKey;
  }
  renderImages(entry.fields.images, entry.data.images);
  if (data.role === "assistant") renderAnswerParts(entry);
  $("[data-act='stop']", el).hidden = !active;
  $("[data-act='copy']", el).hidden = !data.content || active;
}

function updateFoot(entry) {
  const foot = $(".msg__foot", entry.el);
  foot.hidden = !$("[data-act]:not([hidden]), [data-field='stats']:not([hidden])", foot);
}

/* ------------------------------------------------------- page-wide state */

function activeAnswer() {
  const active = [...entries.values()].filter((entry) => ACTIVE.has(entry.data.state)).pop();
  return active ? active.data.id : null;
}

function refreshControls() {
  const ordered = [...entries.values()].sort((a, b) => a.data.id - b.data.id);
  const last = ordered[ordered.length - 1];
  const busy = activeAnswer() !== null;
  for (const entry of ordered) {
    const regenerate = $("[data-act='regenerate']", entry.el);
    regenerate.hidden = !(hasModel && !busy && entry.data.role === "assistant" && FINAL.has(entry.data.state));
    renderLimit(entry, hasModel && !busy && entry === last);
    versions.refreshEntry(entry, busy);
    updateFoot(entry);
  }
  const empty = $("[data-chat-empty]");
  if (empty) empty.hidden = ordered.length > 0;
  composer.updateComposer();
}

/* ---------------------------------------------------------------- scroll */

// Follow the newest text while the member is at the bottom; leave them be once they scroll up.
let pinned = true;

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;

function scrollToBottom(smooth = false) {
  pinned = true;
  scroller.scrollTo({ top: scroller.scrollHeight, behavior: smooth ? "smooth" : "auto" });
  if (jumpButton) jumpButton.hidden = true;
}

function updateJump() {
  if (jumpButton) jumpButton.hidden = pinned || nearBottom();
}

/* ------------------------------------------------------- message actions */

function onLogClick(event) {
  const codeCopy = event.target.closest("[data-copy-code]");
  if (codeCopy) {
    copyWithFeedback(codeCopy, $("pre", codeCopy.closest(".code"))?.textContent || "");
    return;
  }
  const button = event.target.closest("[data-act]");
  const article = button?.closest("[data-message-id]");
  const entry = article && entries.get(Number(article.getAttribute("data-message-id")));
  if (!entry) return;
  const action = button.getAttribute("data-act");
  if (action === "copy") {
    copyWithFeedback(button, entry.data.content);
  } else if (action === "stop") {
    composer.stopAnswer(entry.data.id);
  } else if (action === "continue") {
    continueAnswer(entry.data.id, button);
  } else if (action === "regenerate") {
    if (send({ action: "chat.regenerate", message: entry.data.id })) {
      composer.hideError();
      button.hidden = true;
    } else {
      composer.showError("Hearth isn't connected right now. Try again in a moment.");
    }
  }
}

/* ------------------------------------------------------------- websocket */

function onMessage(event) {
  const payload = event.message;
  if (!validPayload(payload) || payload.conversation !== conversationId) return;
  const known = entries.has(payload.id);
  applyPayload(payload);
  if (payload.role !== "user" || known) return;
  const sent = composer.confirmPending()?.trim();
  if (sent && $("[data-chat-title]").textContent.trim() === "New chat") setTitle(sent.split(/\r?\n/)[0].slice(0, 60)); // as the server names it
  if (sent !== undefined) listConversation($("[data-chat-title]").textContent);
  scrollToBottom();
}

function onError(event) {
  if (!event || !CHAT_ACTIONS.has(event.action)) return;
  const text = typeof event.error === "string" && event.error ? event.error : "Hearth refused that.";
  if (event.action === "chat.send" && composer.sendPending()) composer.restorePending(text);
  else composer.showError(text);
  refreshControls();
}

// After a reconnect, messages written meanwhile (on another device, say) are read from the page itself.
async function resyncConversation() {
  const seed = (await fetchPage(window.location.pathname))?.getElementById("chat-history");
  try {
    if (seed) versions.showThread(JSON.parse(seed.textContent)); // another version may be shown now
  } catch (error) {
    /* the next reconnect tries again */
  }
}

/* ----------------------------------------------------------------- start */

function start() {
  on("chat.message", onMessage);
  on("chat.token", onToken);
  on("error", onError);
  on("socket:open", (info) => {
    if (info?.reconnect) resyncConversation();
    for (const entry of entries.values()) if (!FINAL.has(entry.data.state)) resync(entry.data.id, true);
  });
  log.addEventListener("click", onLogClick);
  scroller.addEventListener("scroll", () => {
    pinned = nearBottom();
    updateJump();
  }, { passive: true });
  // The composer growing (a photo, a second line) shrinks the list: keep the bottom in view.
  new ResizeObserver(() => {
    if (pinned) scroller.scrollTop = scroller.scrollHeight;
  }).observe(scroller);
  jumpButton?.addEventListener("click", () => scrollToBottom(true));
  composer.composerStart({ activeAnswer, scrollToBottom });
  versions.versionsStart({ entries, applyPayload, refresh: flushRender, scrollToBottom });

  let seed = [];
  try {
    seed = JSON.parse(document.getElementById("chat-history").textContent) || [];
  } catch (error) {
    seed = [];
  }
  for (const payload of seed) applyPayload(payload, { quiet: true });
  flushRender(); // the first paint is immediate, not batched, so the page opens at the right place
  const target = /^#m(\d+)$/.exec(window.location.hash);
  const targetEntry = target && entries.get(Number(target[1]));
  if (targetEntry) {
    targetEntry.el.scrollIntoView({ block: "center" });
    targetEntry.el.classList.add("msg--highlight");
    targetEntry.el.focus({ preventScroll: true });
  } else {
    scrollToBottom();
    if (hasModel && window.matchMedia("(pointer: fine)").matches) composer.focusComposer();
  }
}

if (root) start();
