/* What every Hearth page script shares: DOM helpers, toasts, fetch and upload with the CSRF token,
   and the one events websocket of the page.

   Import it (never load it with a <script> tag, so every page script gets the same instance):

     import { on, send, toast, postForm } from "./lib.js";

   Server data is only ever put in the page with textContent, never as HTML. */

const doc = document;

/* ------------------------------------------------------------------ DOM */

export const $ = (selector, scope) => (scope || doc).querySelector(selector);
export const $all = (selector, scope) => Array.from((scope || doc).querySelectorAll(selector));

/** The element marked data-field="name" inside `root`. */
export const field = (root, name) => root.querySelector(`[data-field='${name}']`);

/** Put `text` in `element`, and hide it while the text is empty. */
export function setText(element, text) {
  if (!element) return;
  element.textContent = text || "";
  element.hidden = !text;
}

/** Say `text` through the page's polite live region (cleared first, so a repeat is read again). */
export function announce(text) {
  const region = $("[data-announce]");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** A URL from a reversed pattern with 0 for the id: urlFor("/jobs/0/cancel/", 7) -> "/jobs/7/cancel/". */
export const urlFor = (pattern, id) => (pattern ? pattern.replace(/\/0\/(?=[^/]*\/?$)/, `/${id}/`) : "");

export const plural = (count, one, many) => `${count} ${count === 1 ? one : many || one + "s"}`;

const BYTE_UNITS = ["KB", "MB", "GB", "TB", "PB"];

/** Sizes exactly as the server writes them (Django's filesizeformat): 1024-based, one decimal,
    a no-break space: "512 bytes", "1.5 MB". */
export function humanBytes(size) {
  let value = Math.max(0, Math.floor(Number(size) || 0));
  if (value < 1024) return `${value}\u00a0${value === 1 ? "byte" : "bytes"}`;
  let unit = -1;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)}\u00a0${BYTE_UNITS[unit]}`;
}

/** An <svg class="icon"> from the icon sprite (base.html's #icon-template knows its hashed URL). */
export function icon(name) {
  const template = doc.getElementById("icon-template");
  if (!template) return doc.createElementNS("http://www.w3.org/2000/svg", "svg");
  const svg = template.content.firstElementChild.cloneNode(true);
  const use = svg.querySelector("use");
  use.setAttribute("href", `${(use.getAttribute("href") || "").replace(/#.*$/, "")}#${name}`);
  return svg;
}

/** Fill a status badge: `tone` picks its colour (badge--queued, --running, --succeeded, ...). */
export function setBadge(badge, tone, label) {
  if (!badge) return;
  badge.className = `badge badge--${tone}`;
  badge.textContent = label;
}

/** A <progress> and its percent label: fraction 0..1, or null while nothing can be measured. */
export function setProgress(bar, percent, fraction, label) {
  if (fraction === null || fraction === undefined) {
    bar?.removeAttribute("value");
    bar?.setAttribute("aria-valuetext", label || "Working");
    setText(percent, "");
    return;
  }
  const value = Math.round(Math.max(0, Math.min(1, Number(fraction) || 0)) * 100);
  if (bar) {
    bar.value = value;
    bar.setAttribute("aria-valuetext", `${value}%`);
  }
  setText(percent, `${value}%`);
}

/** True when a websocket payload is newer than the last one a row showed (its data-seq). */
export function newerSeq(row, seq) {
  const seen = Number(row.getAttribute("data-seq"));
  const next = Number(seq);
  if (Number.isFinite(seen) && Number.isFinite(next) && next < seen) return false;
  if (Number.isFinite(next)) row.setAttribute("data-seq", String(next));
  return true;
}

/* ----------------------------------------------------------- requests */

function readCookie(name) {
  const pair = (doc.cookie ? doc.cookie.split(";") : []).map((part) => part.trim()).find((part) => part.startsWith(`${name}=`));
  return pair ? decodeURIComponent(pair.slice(name.length + 1)) : "";
}

/** The CSRF token, from `form` (or any form on the page), else from the cookie. */
export function csrfToken(form) {
  const input = (form && $("input[name='csrfmiddlewaretoken']", form)) || $("input[name='csrfmiddlewaretoken']");
  // On the HTTPS port the CSRF cookie has a name of its own (assistant/https/cookies.py).
  return input?.value || readCookie(window.location.protocol === "https:" ? "__Secure-csrftoken" : "csrftoken");
}

const JSON_HEADERS = { Accept: "application/json", "X-Requested-With": "fetch" };

/** POST `body` (FormData or nothing) and read a JSON answer: resolves to {status, data}; data is
    null when the answer was not JSON (a login page, an error page), status 0 when Hearth was unreachable. */
export async function postForm(url, { body = null, form = null } = {}) {
  try {
    const response = await window.fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { ...JSON_HEADERS, "X-CSRFToken": csrfToken(form) },
    });
    const type = response.headers.get("Content-Type") || "";
    const data = type.startsWith("application/json") ? await response.json() : null;
    return { status: response.status, data, ok: response.ok && data !== null };
  } catch (error) {
    return { status: 0, data: null, ok: false };
  }
}

/** GET a page of Hearth as a parsed document (null on any failure). */
export async function fetchPage(url) {
  try {
    const response = await window.fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } });
    return response.ok ? new DOMParser().parseFromString(await response.text(), "text/html") : null;
  } catch (error) {
    return null;
  }
}

/** POST a file (or FormData) with upload progress. onProgress(loaded, total) while bytes go out.
    A file goes as the body itself, its name in a header, never as a multipart form, so the server
    streams it to disk unparsed (assistant/core/uploads.py).
    Returns {xhr, done}; done resolves to {status, data, aborted} (status 0: the connection was lost). */
export function upload(url, body, { onProgress, form } = {}) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve) => {
    const finish = (aborted) => () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (error) {
        data = null;
      }
      resolve({ status: aborted ? 0 : xhr.status, data, aborted: aborted === "abort" });
    };
    xhr.addEventListener("load", finish(false));
    xhr.addEventListener("error", finish("error"));
    xhr.addEventListener("abort", finish("abort"));
  });
  if (onProgress) {
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
  }
  xhr.open("POST", url);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
  xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
  if (body instanceof Blob) {
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-Upload-Name", encodeURIComponent(body.name || "upload"));
  }
  xhr.send(body);
  return { xhr, done };
}

/** What to tell the member when a request failed: the server's own words when it gave some. */
export function failureText(status, data, what) {
  if (data && typeof data.error === "string" && data.error) return data.error;
  if (status === 0) return "Couldn't reach Hearth. Check your connection and try again.";
  if (status === 403) return `Hearth refused the ${what}. Reload the page (you may have been signed out) and try again.`;
  if (status === 413) return "The file is larger than the server accepts.";
  return `The ${what} failed (the server answered ${status}). Reload the page and try again.`;
}

/** Post a data-job-form in the background (call from its submit event): resolves to the job it
    started, or null when there is none to show (a busy form, an error toast, or a plain submit). */
export async function submitJobForm(event) {
  const form = event.target;
  event.preventDefault();
  if (form.hasAttribute("data-busy")) return null; // one request at a time per form
  form.setAttribute("data-busy", "");
  const button = event.submitter || $("button", form);
  for (const name of ["aria-busy", "aria-disabled"]) button?.setAttribute(name, "true"); // `disabled` would drop focus
  const result = await postForm(form.action, { body: new FormData(form), form });
  form.removeAttribute("data-busy");
  for (const name of ["aria-busy", "aria-disabled"]) button?.removeAttribute(name);
  const job = result.data?.job;
  if (result.status === 0) {
    toast({ tone: "error", title: "Couldn't reach Hearth", text: "Check your connection and try again." });
  } else if (!result.ok || !job || !Number.isInteger(job.id)) {
    HTMLFormElement.prototype.submit.call(form); // signed out, CSRF expired, an error page: the plain way
  } else {
    return job;
  }
  return null;
}

/* --------------------------------------------------------- drag and drop */

/** Files dragged over the whole page: onDragging(true/false) while they hover, onDrop(event) once dropped.
    accept() may refuse a drag (e.g. no model to send photos to). */
export function pageDropTarget({ onDragging, onDrop, accept = () => true }) {
  let depth = 0;
  const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  doc.addEventListener("dragenter", (event) => {
    if (!hasFiles(event) || !accept()) return;
    event.preventDefault();
    depth += 1;
    onDragging(true);
  });
  doc.addEventListener("dragover", (event) => {
    if (!hasFiles(event) || !accept()) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  doc.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) onDragging(false);
  });
  doc.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    onDragging(false);
    if (accept()) onDrop(event);
  });
}

/* --------------------------------------------------------------- toasts */

function toastElement(tone, { title, text, href, linkText }) {
  const item = doc.createElement("div");
  item.className = `toast toast--${tone}`;
  if (tone === "error") item.setAttribute("role", "alert"); // others are read by the polite region
  const glyph = icon(tone === "success" ? "check" : tone === "error" ? "alert" : "info");
  glyph.classList.add("toast__icon");
  const content = doc.createElement("div");
  content.className = "toast__body";
  for (const [className, value] of [["toast__title", title], ["toast__text", text]]) {
    if (!value) continue;
    const line = doc.createElement("p");
    line.className = className;
    line.textContent = value;
    content.append(line);
  }
  if (href) {
    const link = doc.createElement("a");
    link.className = "toast__link";
    link.href = href;
    link.textContent = linkText || "Open";
    content.append(link);
  }
  const close = doc.createElement("button");
  close.type = "button";
  close.className = "icon-btn icon-btn--small toast__close";
  close.setAttribute("aria-label", "Dismiss notification");
  close.append(icon("close"));
  item.append(glyph, content, close);
  return { item, close };
}

/** Show a toast: {title, text, tone: "info"|"success"|"error", href, linkText, timeout (ms, 0 = stays)}.
    Returns a function that dismisses it. Errors stay until dismissed; hovering or focusing pauses the timer. */
export function toast(options = {}) {
  let region = $("[data-toasts]");
  if (!region) {
    region = doc.createElement("div");
    region.className = "toasts";
    region.setAttribute("data-toasts", "");
    region.setAttribute("aria-live", "polite");
    doc.body.append(region);
  }
  const tone = ["success", "error", "info"].includes(options.tone) ? options.tone : "info";
  const { item, close } = toastElement(tone, options);
  let timer = 0;
  let startedAt = 0;
  let remaining = typeof options.timeout === "number" ? options.timeout : tone === "error" ? 0 : 8000;
  const dismiss = () => {
    clearTimeout(timer);
    item.classList.add("toast--leaving");
    window.setTimeout(() => item.remove(), 200);
  };
  const start = () => {
    if (remaining <= 0) return;
    startedAt = Date.now();
    timer = window.setTimeout(dismiss, remaining);
  };
  const pause = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = 0;
    remaining = Math.max(1500, remaining - (Date.now() - startedAt));
  };
  close.addEventListener("click", dismiss);
  item.addEventListener("mouseenter", pause);
  item.addEventListener("mouseleave", start);
  item.addEventListener("focusin", pause);
  item.addEventListener("focusout", start);
  region.append(item);
  while (region.children.length > 4) region.firstElementChild.remove();
  start();
  return dismiss;
}

export { on, off, send, connected, connect } from "./socket.js";
