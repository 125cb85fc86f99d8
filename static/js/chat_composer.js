/* The chat composer: the message box (Enter sends, the draft survives a reload), photos attached by
   picker, camera, paste or drop (each uploaded at once, with progress), Send and Stop.

   chat.js owns the messages; it gives the composer two questions to ask (is an answer being written,
   and scroll to the newest) and tells it when the server confirmed or refused what was sent. */
import { $, $all, send as socketSend, upload, pageDropTarget } from "./lib.js";

const MAX_ATTACHMENTS = 8;

const root = $("[data-chat]");
const conversationId = Number(root?.getAttribute("data-conversation"));
const hasModel = root?.getAttribute("data-has-model") === "1";
const textarea = $("[data-composer-text]");
const sendButton = $("[data-send]");
const stopButton = $("[data-stop]");
const attachmentList = $("[data-attachments]");
const attachmentTemplate = document.getElementById("chat-attachment-template");
const draftKey = `hearth-chat-draft-${conversationId}`;

const hooks = { activeAnswer: () => null, scrollToBottom: () => {} };
let attachments = []; // {key, file, url, state: uploading|done, id, progress, xhr, element}
let pendingSend = null; // what was sent and not yet confirmed: restored if the server refuses it
let pendingTimer = 0;

/* ---------------------------------------------------------------- errors */

export function showError(text) {
  $("[data-composer-error-text]").textContent = text;
  $("[data-composer-error]").hidden = false;
}

export function hideError() {
  $("[data-composer-error]").hidden = true;
  $("[data-composer-error-text]").textContent = "";
}

/* ----------------------------------------------------------------- state */

const uploading = () => attachments.some((item) => item.state === "uploading");
const readyImages = () => attachments.filter((item) => item.state === "done").map((item) => item.id);

function canSend() {
  if (!hasModel || pendingSend || hooks.activeAnswer() || uploading()) return false;
  return !!textarea.value.trim() || readyImages().length > 0;
}

/** Send or Stop, enabled or not, from the page's state. */
export function updateComposer() {
  const active = hooks.activeAnswer();
  sendButton.hidden = !!active;
  stopButton.hidden = !active;
  sendButton.disabled = !canSend();
  sendButton.setAttribute("aria-label", uploading() ? "Send (waiting for the photos to upload)" : "Send");
  if (active) stopButton.setAttribute("data-message", String(active));
  else stopButton.removeAttribute("data-message");
}

const fieldSizing = window.CSS?.supports?.("field-sizing", "content");
function autosize() {
  if (fieldSizing) return;
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight + 2, window.innerHeight * 0.4)}px`;
}

function saveDraft() {
  try {
    if (textarea.value) window.sessionStorage.setItem(draftKey, textarea.value);
    else window.sessionStorage.removeItem(draftKey);
  } catch (error) {
    /* storage blocked: the draft lives only in the page */
  }
}

function restoreDraft() {
  try {
    const draft = window.sessionStorage.getItem(draftKey);
    if (draft && !textarea.value) textarea.value = draft;
  } catch (error) {
    /* nothing to restore */
  }
}

/* ------------------------------------------------------------------ send */

function send() {
  if (!canSend()) return;
  const text = textarea.value;
  if (!socketSend({ action: "chat.send", conversation: conversationId, text, images: readyImages() })) {
    showError("Hearth isn't connected right now. Your message is still here: send it again when the connection is back.");
    return;
  }
  hideError();
  pendingSend = { text, attachments };
  attachments = [];
  renderAttachments();
  textarea.value = "";
  saveDraft();
  autosize();
  updateComposer();
  clearTimeout(pendingTimer);
  pendingTimer = window.setTimeout(() => {
    if (pendingSend) restorePending("Hearth didn't confirm your message. Check the connection and send it again.");
  }, 20000);
  hooks.scrollToBottom();
}

/** The server stored the message just sent: returns its text (or null when nothing was pending). */
export function confirmPending() {
  if (!pendingSend) return null;
  const { text } = pendingSend;
  for (const item of pendingSend.attachments) URL.revokeObjectURL(item.url);
  pendingSend = null;
  clearTimeout(pendingTimer);
  updateComposer();
  return text;
}

export const sendPending = () => !!pendingSend;

/** The server refused the message just sent: put it back in the box and say why. */
export function restorePending(message) {
  const pending = pendingSend;
  pendingSend = null;
  clearTimeout(pendingTimer);
  if (pending) {
    if (!textarea.value.trim()) textarea.value = pending.text;
    attachments = pending.attachments.concat(attachments);
    renderAttachments();
    saveDraft();
    autosize();
  }
  showError(message);
  updateComposer();
  textarea.focus();
}

export function stopAnswer(id) {
  if (!socketSend({ action: "chat.stop", message: id })) {
    showError("Hearth isn't connected right now, so the answer can't be stopped. Try again in a moment.");
  }
}

/** Put a suggestion in the box, ready to send or edit. */
export function suggest(text) {
  textarea.value = text;
  autosize();
  saveDraft();
  updateComposer();
  textarea.focus();
  textarea.setSelectionRange(text.length, text.length);
}

/* ---------------------------------------------------------- attachments */

function updateAttachment(item) {
  if (!item.element) return;
  item.element.classList.toggle("attachment--uploading", item.state === "uploading");
  const progress = $("progress", item.element);
  progress.value = Math.round(item.progress);
  progress.setAttribute("aria-label", `Uploading ${item.file.name || "photo"}`);
  $(".attachment__remove .sr-only", item.element).textContent = `Remove ${item.file.name || "photo"}`;
}

function renderAttachments() {
  attachmentList.replaceChildren();
  for (const item of attachments) {
    if (!item.element) {
      const element = attachmentTemplate.content.firstElementChild.cloneNode(true);
      $("img", element).src = item.url;
      $("img", element).alt = item.file.name || "Photo";
      $(".attachment__remove", element).addEventListener("click", () => {
        removeAttachment(item);
        textarea.focus();
      });
      item.element = element;
    }
    updateAttachment(item);
    attachmentList.append(item.element);
  }
  attachmentList.hidden = !attachments.length;
  updateComposer();
}

function removeAttachment(item) {
  if (item.xhr && item.state === "uploading") item.xhr.abort();
  URL.revokeObjectURL(item.url);
  attachments = attachments.filter((other) => other !== item);
  renderAttachments();
}

async function uploadPhoto(item) {
  const onProgress = (loaded, total) => {
    item.progress = (loaded / total) * 100;
    updateAttachment(item);
  };
  const request = upload(root.getAttribute("data-upload-url"), item.file, { onProgress });
  item.xhr = request.xhr;
  const { status, data, aborted } = await request.done;
  if (aborted) return;
  if (status === 200 && Number.isInteger(data?.id)) {
    Object.assign(item, { state: "done", id: data.id, progress: 100 });
    updateAttachment(item);
    updateComposer();
    return;
  }
  const name = item.file.name || "Photo";
  removeAttachment(item);
  if (status === 0) showError(`Couldn't reach Hearth to upload “${name}”. Try again.`);
  else showError(`“${name}” wasn't attached: ${typeof data?.error === "string" ? data.error : `The server answered ${status}.`}`);
}

// The server's own words (chat.services._require_vision), said when the photo is attached, not after Send.
function photoProblem() {
  const option = $("#chat-model")?.selectedOptions[0];
  if (!option || option.hasAttribute("data-vision")) return "";
  const name = option.getAttribute("data-name");
  const names = root.getAttribute("data-vision-models");
  if (names) return `${name} cannot see photos. Switch this conversation to a model with vision: ${names}.`;
  return `${name} cannot see photos, and no vision model is installed. The owner can import a vision GGUF and its mmproj projector on the Models page.`;
}

let attachmentSeq = 0;
function addFiles(files) {
  if (!hasModel) return;
  for (const file of Array.from(files || [])) {
    if (file.type && !file.type.startsWith("image/")) {
      showError(`“${file.name}” isn't a photo. Only images can be attached.`);
      continue;
    }
    if (attachments.length >= MAX_ATTACHMENTS) {
      showError(`At most ${MAX_ATTACHMENTS} photos can go with one message.`);
      continue;
    }
    const item = { key: ++attachmentSeq, file, url: URL.createObjectURL(file), state: "uploading", id: null, progress: 0 };
    attachments.push(item);
    uploadPhoto(item);
  }
  renderAttachments();
  if (attachments.length && photoProblem()) showError(photoProblem());
}

/* ------------------------------------------------------------------ start */

function listen() {
  $("[data-composer]").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
    if (event.isComposing || event.keyCode === 229) return; // an IME is choosing characters
    event.preventDefault();
    send();
  });
  textarea.addEventListener("input", () => {
    autosize();
    saveDraft();
    updateComposer();
  });
  stopButton.addEventListener("click", () => {
    const id = Number(stopButton.getAttribute("data-message"));
    if (Number.isInteger(id) && id > 0) stopAnswer(id);
  });
  $("[data-composer-error-close]").addEventListener("click", () => {
    hideError();
    textarea.focus();
  });
}

function listenForPhotos() {
  const fileInput = $("[data-file-input]");
  const cameraInput = $("[data-camera-input]");
  $("[data-attach]").addEventListener("click", () => fileInput.click());
  $("[data-camera]").addEventListener("click", () => cameraInput.click());
  for (const input of [fileInput, cameraInput]) {
    input.addEventListener("change", () => {
      addFiles(input.files);
      input.value = "";
      textarea.focus();
    });
  }
  textarea.addEventListener("paste", (event) => {
    const items = Array.from(event.clipboardData?.items || []);
    const files = items.filter((item) => item.kind === "file" && item.type.startsWith("image/")).map((item) => item.getAsFile()).filter(Boolean);
    if (!files.length) return;
    addFiles(files);
    if (!event.clipboardData.getData("text/plain")) event.preventDefault();
  });
  const dropZone = $("[data-drop]");
  pageDropTarget({
    accept: () => hasModel,
    onDragging: (dragging) => {
      dropZone.hidden = !dragging;
    },
    onDrop: (event) => {
      addFiles(event.dataTransfer.files);
      textarea.focus();
    },
  });
}

/** Start the composer: activeAnswer() -> the id of the answer being written (or null). */
export function composerStart({ activeAnswer, scrollToBottom }) {
  Object.assign(hooks, { activeAnswer, scrollToBottom });
  listen();
  listenForPhotos();
  restoreDraft();
  autosize();
  updateComposer();
  for (const button of $all("[data-suggest]")) button.addEventListener("click", () => suggest(button.getAttribute("data-suggest")));
}

export const focusComposer = () => textarea.focus({ preventScroll: true });
