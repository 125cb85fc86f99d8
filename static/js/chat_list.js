/* The chat page around the conversation: the list of chats (a drawer below 75rem), renaming a chat
   in place, and the header's model / persona / documents / system prompt settings, saved as they change. */
import { $, $all, postForm, toast } from "./lib.js";

const doc = document;
const root = $("[data-chat]");
const conversationId = Number(root?.getAttribute("data-conversation"));

/* ------------------------------------------------------------------ titles */

function renameListItem(item, title) {
  $("[data-convo-title]", item).textContent = title;
  const input = $("input[name='title']", item);
  if (input) input.value = title;
  $("[data-rename]", item)?.setAttribute("aria-label", `Rename “${title}”`);
  const deleteForm = $("form[data-confirm]", item);
  if (deleteForm) {
    deleteForm.setAttribute("data-confirm", `Delete “${title}”? Its messages are removed for good.`);
    $("button", deleteForm).setAttribute("aria-label", `Delete “${title}”`);
  }
}

/** The conversation's title, everywhere the page shows it. */
export function setTitle(title) {
  if (!title) return;
  $("[data-chat-title]").textContent = title;
  doc.title = `${title} · Chat · Hearth`;
  const item = $(`.convo[data-convo='${conversationId}']`);
  if (item) renameListItem(item, title);
}

/** A new chat got its first message: it joins the list (renaming and deleting come with a reload). */
export function listConversation(title) {
  if ($(`.convo[data-convo='${conversationId}']`)) return;
  const item = document.createElement("li");
  item.className = "convo convo--current";
  item.setAttribute("data-convo", String(conversationId));
  const link = document.createElement("a");
  link.className = "convo__link";
  link.href = window.location.pathname;
  link.setAttribute("aria-current", "page");
  link.setAttribute("data-convo-title", "");
  link.textContent = title;
  item.append(link);
  $(".convos")?.prepend(item);
  const empty = $("[data-chat-list-empty]");
  if (empty) empty.hidden = true;
}

/* ------------------------------------------------------- the list drawer */

function listDrawer() {
  const list = $("[data-chat-list]");
  const toggle = $("[data-list-toggle]");
  const backdrop = $("[data-list-backdrop]");
  const main = $(".chat-main");
  const drawerQuery = window.matchMedia("(max-width: 74.99rem)");
  let open = false;

  function setList(wanted, { keepFocus = false } = {}) {
    const drawer = drawerQuery.matches;
    const was = open;
    open = wanted && drawer;
    root.classList.toggle("chat--list-open", open);
    toggle.hidden = !drawer;
    toggle.setAttribute("aria-expanded", String(open));
    backdrop.hidden = !open;
    list.toggleAttribute("inert", drawer && !open);
    main.toggleAttribute("inert", open);
    if (open && !was) ($("[aria-current='page']", list) || $("a, button", list))?.focus();
    else if (was && !open && !keepFocus) toggle.focus();
  }

  toggle.addEventListener("click", () => setList(!open));
  backdrop.addEventListener("click", () => setList(false));
  $("[data-list-close]").addEventListener("click", () => setList(false));
  doc.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && open && !event.target.closest("[data-rename-form]")) {
      event.preventDefault();
      setList(false);
    }
  });
  drawerQuery.addEventListener("change", () => setList(false, { keepFocus: true }));
  setList(false, { keepFocus: true });
}

/* -------------------------------------------------------- inline rename */

function renameInPlace(item) {
  const button = $("[data-rename]", item);
  const form = $("[data-rename-form]", item);
  const input = $("input[name='title']", form);
  const link = $("[data-convo-title]", item);
  let busy = false;
  button.hidden = false;

  function close() {
    item.classList.remove("convo--renaming");
    form.hidden = true;
    button.focus();
  }

  async function save() {
    const title = input.value.trim();
    if (busy) return;
    if (!title || title === link.textContent) {
      input.value = link.textContent;
      close();
      return;
    }
    busy = true;
    const { ok, data } = await postForm(form.action, { body: new FormData(form), form });
    if (ok) {
      const saved = data.title || title;
      if (Number(item.getAttribute("data-convo")) === conversationId) setTitle(saved);
      else renameListItem(item, saved);
    } else {
      input.value = link.textContent;
      toast({ tone: "error", title: "Couldn't rename the chat", text: "Check your connection and try again." });
    }
    busy = false;
    close();
  }

  button.addEventListener("click", () => {
    item.classList.add("convo--renaming");
    form.hidden = false;
    input.value = link.textContent;
    input.focus();
    input.select();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    event.stopPropagation();
    input.value = link.textContent;
    close();
  });
  input.addEventListener("blur", () => {
    if (!form.hidden) save();
  });
}

/* ------------------------------------------------- model, persona, prompt */

function settingsAutosave(form) {
  async function save(what) {
    const { status } = await postForm(form.action, { body: new FormData(form), form });
    if (status < 200 || status >= 400) {
      HTMLFormElement.prototype.submit.call(form); // the plain way shows the real error
      return;
    }
    toast({ tone: "success", title: what, timeout: 3000 });
    const panel = $("[data-settings-panel]", form);
    if (panel && what === "System prompt saved") panel.open = false;
  }
  for (const select of $all("[data-autosave]", form)) {
    select.addEventListener("change", () => {
      const option = select.options[select.selectedIndex];
      save(`${select.name === "model" ? "Model" : "Persona"}: ${option ? option.textContent.trim() : ""}`);
    });
  }
  for (const input of $all("[data-docs-autosave]", form)) {
    input.addEventListener("change", () => {
      let mode = $("input[name='documents_scope']:checked", form);
      if (input.name === "documents" && input.checked && mode?.value !== "selected") {
        mode = $("input[name='documents_scope'][value='selected']", form) || mode;
        if (mode) mode.checked = true;
      }
      const label = mode?.parentNode ? mode.parentNode.textContent.trim() : "";
      const summary = $("[data-docs-summary]", form);
      if (summary) summary.textContent = label;
      save(`Documents: ${label}`);
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save("System prompt saved");
  });
}

if (root) {
  listDrawer();
  for (const item of $all(".convo")) renameInPlace(item);
  const settings = $("[data-settings-form]");
  if (settings) settingsAutosave(settings);
}
