/* Sampling in the chat. The header's Sampling panel: temperature, top-p, max tokens and repeat penalty for
   this chat, saved in the background (the server checks the ranges and its words appear beside the field),
   "Reset to model defaults", fresh from the server each time it opens. And under an answer that stopped at
   its token limit, a quiet line with Continue: the same answer goes on, queued as Regenerate is.

   chat.js calls renderLimit() for each message and continueAnswer() when Continue is clicked. */
import { $, $all, setText, postForm, toast, send } from "./lib.js";
import { showError, hideError } from "./chat_composer.js";

const panel = $("[data-sampling-panel]");
const form = $("[data-sampling-form]");

/* ------------------------------------------------------ limit and Continue */

/** The "Stopped at the N-token limit" line of a message; Continue only where `canContinue`. */
export function renderLimit(entry, canContinue) {
  const { data, fields } = entry;
  if (!fields.limit) return;
  const limit = Number(data.token_limit) || 0;
  const shown = data.role === "assistant" && data.state === "complete" && limit > 0;
  fields.limit.hidden = !shown;
  fields["limit-text"].textContent = shown ? `Stopped at the ${limit.toLocaleString()}-token limit.` : "";
  $("[data-act='continue']", entry.el).hidden = !(shown && canContinue);
}

/** Ask the model to go on writing answer `id` (refused by the server while another answer is written). */
export function continueAnswer(id, button) {
  if (send({ action: "chat.continue", message: id })) {
    hideError();
    button.hidden = true;
  } else {
    showError("Hearth isn't connected right now. Try again in a moment.");
  }
}

/* --------------------------------------------------------------- the panel */

let edited = false; // typed into since the panel opened: a late refresh must not undo it
let asked = 0; // requests made: only the answer to the latest one fills the panel

function showErrors(errors) {
  let first = null;
  for (const box of $all("[data-sampling-field]", panel)) {
    const text = errors[box.getAttribute("data-sampling-field")] || "";
    const error = $("[data-sampling-error]", box);
    const input = $("input", box);
    error.textContent = text;
    error.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    if (text && !first) first = input;
  }
  first?.focus();
}

function fill(state) {
  if (!state || !Array.isArray(state.fields)) return;
  setText($("[data-sampling-model]", panel), state.model);
  for (const item of state.fields) {
    const box = $(`[data-sampling-field='${item.name}']`, panel);
    if (!box) continue;
    const input = $("input", box);
    Object.assign(input, { value: item.value, min: item.min, max: item.max });
    input.setAttribute("data-default", item.default);
    setText($("[data-sampling-range]", box), `${item.min} to ${item.max}.`);
    setText($("[data-sampling-default]", box), `Default: ${item.default}, ${item.source}.`);
  }
  const dot = $("[data-sampling-dot]");
  if (dot) dot.hidden = !state.overridden;
}

async function refresh() {
  edited = false;
  const mine = ++asked;
  try {
    const response = await window.fetch(form.action, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = response.ok ? await response.json() : null;
    if (data && !edited && mine === asked) {
      fill(data.sampling);
      showErrors({});
    }
  } catch (error) {
    /* the values the page was built with stay */
  }
}

async function save(reset) {
  const body = new FormData(form);
  if (reset) body.set("reset", "1");
  asked += 1;
  const { status, data } = await postForm(form.action, { body, form });
  if (data && data.errors && Object.keys(data.errors).length) {
    showErrors(data.errors);
    return;
  }
  if (status === 0 || !data || !data.sampling) {
    const text = data?.error || (status === 0 ? "Couldn't reach Hearth. Check your connection and try again." : "Reload the page and try again.");
    toast({ tone: "error", title: "Sampling not saved", text });
    return;
  }
  showErrors({});
  fill(data.sampling);
  edited = false;
  toast({ tone: "success", title: data.note, timeout: 3000 });
  if (!reset) panel.open = false;
}

function start() {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(event.submitter?.name === "reset");
  });
  panel.addEventListener("toggle", () => {
    if (panel.open) refresh();
  });
  panel.addEventListener("input", () => {
    edited = true;
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !panel.open) return;
    event.preventDefault();
    panel.open = false;
    $("summary", panel).focus();
  });
}

if (panel && form) start();
