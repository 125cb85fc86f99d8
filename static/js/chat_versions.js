/* Versions of messages (assistant/chat/versions.py). Regenerate and Edit never overwrite: each makes a
   new version beside the old one, and ‹ 2/3 › under a message switches between its versions; what
   follows a version is its own branch. The server keeps the choice and sends the path to show as a
   "chat.thread" event to every open page of the member.

   chat.js owns the messages; it hands over its entries and how to apply and render a payload, and
   calls refreshEntry() for each message whenever the page's state changes. */
import { $, announce, on, send } from "./lib.js";
import { showError, hideError } from "./chat_composer.js";

const ACTIVE = new Set(["queued", "streaming"]);
const FINAL = new Set(["complete", "incomplete", "failed"]);
const CONFIRM_WITHIN_MS = 20000;
const OFFLINE = "Hearth isn't connected right now. Try again in a moment.";

const root = $("[data-chat]");
const conversationId = Number(root?.getAttribute("data-conversation"));
const hasModel = root?.getAttribute("data-has-model") === "1";
const log = $("[data-chat-log]");

const hooks = { entries: new Map(), applyPayload: () => null, refresh: () => {}, scrollToBottom: () => {} };
let pendingChoice = null; // {target, step}: focus follows the arrows to the version now shown
let pendingEdit = null; // {id, form, timer}: an edit sent and not yet confirmed

/* ------------------------------------------------------------ the path */

/** Show the path the server sent: messages no longer on it leave, the others are added or updated. */
export function showThread(payloads) {
  if (!Array.isArray(payloads)) return;
  const shown = new Set(payloads.map((payload) => payload?.id));
  for (const [id, entry] of hooks.entries) {
    if (shown.has(id)) continue;
    entry.el.remove();
    hooks.entries.delete(id);
  }
  for (const payload of payloads) {
    const known = hooks.entries.get(payload?.id)?.data;
    // A written message never goes back to waiting: an older snapshot brings only its versions.
    const older = known && FINAL.has(known.state) && ACTIVE.has(payload.state);
    const { version, version_count, version_ids } = payload || {};
    hooks.applyPayload(older ? { ...known, version, version_count, version_ids } : payload, { quiet: true });
  }
  hooks.refresh();
}

function onThread(event) {
  if (!event || event.conversation !== conversationId) return;
  const hadFocus = log.contains(document.activeElement);
  showThread(event.messages);
  if (pendingEdit && !hooks.entries.has(pendingEdit.id)) {
    clearTimeout(pendingEdit.timer);
    pendingEdit = null;
    hooks.scrollToBottom();
  }
  if (pendingChoice && hooks.entries.has(pendingChoice.target)) followChoice();
  else if (hadFocus && !log.contains(document.activeElement)) lastEntry()?.el.focus({ preventScroll: true });
}

const lastEntry = () => [...hooks.entries.values()].sort((a, b) => a.data.id - b.data.id).pop();

/* ------------------------------------------------------------ ‹ n/m › */

/** The arrows and Edit of one message, from its payload and the page's state. */
export function refreshEntry(entry, busy) {
  const { data, el } = entry;
  const ids = Array.isArray(data.version_ids) ? data.version_ids : [data.id];
  const count = Math.max(1, Number(data.version_count) || ids.length);
  const index = Math.min(count, Math.max(1, Number(data.version) || 1));
  const several = count > 1;
  el.classList.toggle("msg--versions", several);
  $("[data-field='versions']", el).hidden = !several;
  $("[data-field='versions']", el).setAttribute("aria-label", `Version ${index} of ${count}`);
  $("[data-field='version-label']", el).textContent = `${index}/${count}`;
  const previous = $("[data-act='version-prev']", el);
  const next = $("[data-act='version-next']", el);
  previous.hidden = next.hidden = !several;
  previous.disabled = busy || index <= 1;
  next.disabled = busy || index >= count;
  const editing = el.classList.contains("msg--editing");
  $("[data-act='edit']", el).hidden = !(hasModel && !busy && !editing && data.role === "user" && FINAL.has(data.state));
}

function choose(entry, step) {
  const ids = Array.isArray(entry.data.version_ids) ? entry.data.version_ids : [];
  const target = ids[ids.indexOf(entry.data.id) + step];
  if (!Number.isInteger(target)) return;
  if (!send({ action: "chat.version", message: target })) {
    showError(OFFLINE);
    return;
  }
  hideError();
  pendingChoice = { target, step };
}

// The arrow pressed was in the version that left: keep the focus on the same arrow of the new one.
function followChoice() {
  const { target, step } = pendingChoice;
  pendingChoice = null;
  const entry = hooks.entries.get(target);
  const same = $(`[data-act='version-${step < 0 ? "prev" : "next"}']`, entry.el);
  const other = $(`[data-act='version-${step < 0 ? "next" : "prev"}']`, entry.el);
  (same.disabled ? other : same).focus({ preventScroll: true });
  announce(`Version ${entry.data.version} of ${entry.data.version_count}`);
}

/* ------------------------------------------------------- editing in place */

function editError(form, text) {
  const error = $("[data-edit-error]", form);
  error.textContent = text;
  error.hidden = !text;
}

function setEditBusy(form, busy) {
  form.toggleAttribute("data-busy", busy);
  const button = $("[data-edit-save]", form);
  for (const name of ["aria-busy", "aria-disabled"]) button.toggleAttribute(name, busy);
}

function openEditor(entry) {
  if ($("[data-edit-form]", entry.el)) return;
  const form = document.getElementById("chat-edit-template").content.firstElementChild.cloneNode(true);
  const text = $("[data-edit-text]", form);
  text.id = `chat-edit-${entry.data.id}`;
  $("[data-edit-label]", form).htmlFor = text.id;
  text.value = entry.data.content;
  entry.fields.body.after(form);
  entry.el.classList.add("msg--editing");
  hooks.refresh();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveEdit(entry, form);
  });
  $("[data-edit-cancel]", form).addEventListener("click", () => closeEditor(entry, form));
  text.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeEditor(entry, form);
    } else if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      saveEdit(entry, form);
    }
  });
  text.focus();
  text.setSelectionRange(text.value.length, text.value.length);
}

function closeEditor(entry, form) {
  if (pendingEdit?.form === form) {
    clearTimeout(pendingEdit.timer);
    pendingEdit = null;
  }
  form.remove();
  entry.el.classList.remove("msg--editing");
  hooks.refresh();
  const edit = $("[data-act='edit']", entry.el);
  (edit.hidden ? entry.el : edit).focus({ preventScroll: true });
}

function saveEdit(entry, form) {
  if (form.hasAttribute("data-busy")) return;
  const text = $("[data-edit-text]", form).value;
  if (!text.trim() && !(entry.data.images || []).length) {
    editError(form, "Type the new text of your message, or cancel the edit to keep it as it was.");
    return;
  }
  if (!send({ action: "chat.edit", message: entry.data.id, text })) {
    editError(form, "Hearth isn't connected right now. Your text is still here: send it again when the connection is back.");
    return;
  }
  editError(form, "");
  setEditBusy(form, true);
  const timer = window.setTimeout(() => refuseEdit("Hearth didn't confirm the edit. Check the connection and send it again."), CONFIRM_WITHIN_MS);
  pendingEdit = { id: entry.data.id, form, timer };
}

// The server refused the edit (an answer is being written, say): the text stays, with the reason.
function refuseEdit(text) {
  if (!pendingEdit) return false;
  const { form, timer } = pendingEdit;
  clearTimeout(timer);
  pendingEdit = null;
  setEditBusy(form, false);
  editError(form, text);
  $("[data-edit-text]", form).focus();
  return true;
}

/* ----------------------------------------------------------------- start */

function onError(event) {
  if (!event || (event.action !== "chat.edit" && event.action !== "chat.version")) return;
  const text = typeof event.error === "string" && event.error ? event.error : "Hearth refused that.";
  if (event.action === "chat.version") pendingChoice = null;
  if (event.action !== "chat.edit" || !refuseEdit(text)) showError(text);
  hooks.refresh();
}

function onClick(event) {
  const button = event.target.closest("[data-act]");
  const article = button?.closest("[data-message-id]");
  const entry = article && hooks.entries.get(Number(article.getAttribute("data-message-id")));
  if (!entry || button.disabled) return;
  const action = button.getAttribute("data-act");
  if (action === "version-prev" || action === "version-next") choose(entry, action === "version-prev" ? -1 : 1);
  else if (action === "edit") openEditor(entry);
}

/** entries: chat.js's id -> entry map; applyPayload(payload, {quiet}); refresh(): render now. */
export function versionsStart({ entries, applyPayload, refresh, scrollToBottom }) {
  Object.assign(hooks, { entries, applyPayload, refresh, scrollToBottom });
  // A search result opened the branch of ?show=<id>; a reload must keep the versions chosen since.
  const url = new URL(window.location.href);
  if (url.searchParams.has("show")) {
    url.searchParams.delete("show");
    window.history.replaceState(window.history.state, "", url);
  }
  on("chat.thread", onThread);
  on("error", onError);
  log.addEventListener("click", onClick);
}
