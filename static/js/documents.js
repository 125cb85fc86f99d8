/* The Documents pages: uploads (picker, folder, drag and drop) with per-file progress, then the live
   indexing progress of each document over the events websocket, and the row actions.

   Each file is POSTed on its own, so one refused file never stops the rest of a batch. Without
   JavaScript the upload form posts all files at once and the server answers with messages. */
import { $, $all, field, setText, announce, urlFor, plural, humanBytes, setBadge, setProgress, on, postForm, upload, failureText, toast, pageDropTarget } from "./lib.js";

const BADGE = { uploading: "running", queued: "queued", indexing: "running", ready: "succeeded", failed: "failed", cancelled: "unknown", refused: "failed" };
const ACTIVE = new Set(["queued", "indexing"]);
const PARALLEL = 2;

/* --------------------------------------------------------- a document's page */

const detail = $("[data-document-page]");
if (detail) {
  const id = Number(detail.getAttribute("data-document-id"));
  on("document", ({ document: payload } = {}) => {
    if (payload?.id !== id) return;
    if (payload.status !== detail.getAttribute("data-status") && !ACTIVE.has(payload.status)) window.location.reload();
  });
}

/* ------------------------------------------------------------- the list page */

const page = $("[data-documents-page]");
const list = page && $("[data-documents-list]", page);
const template = document.getElementById("document-row-template");
const form = page && $("[data-upload-form]", page);
const summary = page && $("[data-upload-summary]", page);
const documentPattern = page?.getAttribute("data-document-pattern");
const latestJob = new Map(); // job id -> newest job payload, for events that beat the upload's response
const pushed = new Map(); // document id -> its latest pushed payload (any push is newer than a response)

const rowFor = (id) => list.querySelector(`[data-document-id='${Number(id)}']`);
const rowForJob = (id) => list.querySelector(`[data-job-id='${Number(id)}']`);

function updateCount() {
  const any = list.children.length > 0;
  $("[data-documents-section]", page).hidden = !any;
  $("[data-documents-empty]", page).hidden = any;
  $("[data-documents-count]", page).textContent = String($all("[data-document-id]:not([data-document-id=''])", list).length);
}

function newRow(file) {
  const row = template.content.firstElementChild.cloneNode(true);
  field(row, "link").textContent = file.name;
  field(row, "link").removeAttribute("href");
  setText(field(row, "kind"), "");
  setText(field(row, "size"), humanBytes(file.size));
  list.prepend(row);
  updateCount();
  return row;
}

function setStatus(row, status, label) {
  row.setAttribute("data-status", status);
  row.className = `job doc doc--${status}${status === "failed" || status === "refused" ? " job--failed" : ""}`;
  setBadge(field(row, "status"), BADGE[status] || "queued", label);
}

// fraction: 0..1, null while nothing can be measured, false to hide the bar.
function showProgress(row, fraction, text) {
  field(row, "progress-box").hidden = fraction === false;
  if (fraction !== false) setProgress(field(row, "progress"), field(row, "percent"), fraction, text);
}

function setError(row, text) {
  field(row, "error").textContent = text || "";
  field(row, "error-box").hidden = !text;
}

function showActions(row, names) {
  for (const actionForm of $all("form[data-doc-action]", row)) actionForm.hidden = !names.includes(actionForm.getAttribute("data-doc-action"));
  $("[data-doc-dismiss]", row).hidden = !names.includes("dismiss");
}

function renderMeta(row, payload) {
  const id = String(payload.id);
  row.setAttribute("data-document-id", id);
  row.setAttribute("data-job-id", payload.job ? String(payload.job) : "");
  const link = field(row, "link");
  link.textContent = payload.name;
  link.setAttribute("href", urlFor(documentPattern, id));
  setText(field(row, "kind"), payload.kind_label);
  setText(field(row, "size"), humanBytes(payload.size_bytes));
  setText(field(row, "pages"), payload.page_count ? plural(payload.page_count, payload.page_label) : "");
  setText(field(row, "chunks"), payload.chunk_count ? plural(payload.chunk_count, "passage") : "");
  for (const actionForm of $all("form[data-doc-action]", row)) {
    actionForm.action = urlFor(actionForm.getAttribute("data-url-pattern"), id);
    if (actionForm.getAttribute("data-doc-action") === "delete") {
      actionForm.setAttribute("data-confirm", `Delete ${payload.name}? Its file and passages are removed from Hearth.`);
    }
  }
}

// Fill a row from a document payload (from an upload's answer, an action's, or a websocket event).
function renderDocument(row, payload) {
  const previous = row.getAttribute("data-status");
  const status = payload.status;
  renderMeta(row, payload);
  setStatus(row, status, payload.status_label || status);
  setError(row, payload.error);
  if (ACTIVE.has(status)) {
    const job = payload.job && latestJob.get(payload.job);
    const fraction = Number((job || payload).progress) || 0;
    const message = (job || payload).message;
    showProgress(row, status === "indexing" && !fraction ? null : fraction, message);
    setText(field(row, "message"), message && message !== payload.status_label ? message : "");
    showActions(row, ["cancel", "delete"]);
  } else {
    showProgress(row, false);
    setText(field(row, "message"), "");
    field(row, "reindex-label").textContent = status === "ready" ? "Re-index" : "Retry";
    showActions(row, ["reindex", "delete"]);
  }
  if (previous && previous !== status && (status === "ready" || status === "failed")) {
    announce(`${payload.name}: ${payload.status_label || status}${payload.error ? `. ${payload.error}` : ""}`);
  }
}

function renderJob(row, job) {
  const status = row.getAttribute("data-status");
  if (!ACTIVE.has(status)) return;
  const fraction = Math.max(0, Math.min(1, Number(job.progress) || 0));
  if (job.status === "running" && status === "queued") setStatus(row, "indexing", "Indexing");
  showProgress(row, job.status === "running" && !fraction ? null : fraction, job.message);
  setText(field(row, "message"), job.message && job.message !== job.status_label ? job.message : "");
  if (["succeeded", "failed", "cancelled"].includes(job.status)) refresh(row);
}

// Re-read a document's row from the server (the database is the record; pushes only notify).
async function refresh(row) {
  const id = row.getAttribute("data-document-id");
  if (!id) return;
  try {
    const response = await window.fetch(urlFor(documentPattern, id), { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 404) {
      row.remove();
      updateCount();
      return;
    }
    const data = response.ok ? await response.json() : null;
    if (data?.document) renderDocument(row, data.document);
  } catch (error) {
    /* the row keeps its state; a reload shows the latest */
  }
}

/* -------------------------------------------------------------- row actions */

async function onAction(event) {
  const actionForm = event.target;
  const row = actionForm.closest("[data-document-id]");
  if (event.defaultPrevented || !row) return;
  event.preventDefault();
  if (actionForm.hasAttribute("data-busy")) return;
  actionForm.setAttribute("data-busy", "");
  const { status, data } = await postForm(actionForm.action, { form });
  actionForm.removeAttribute("data-busy");
  if (actionForm.getAttribute("data-doc-action") === "delete" && data?.deleted) {
    const name = field(row, "link").textContent;
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    updateCount();
    announce(`Deleted ${name}`);
    (next && $("a, button", next))?.focus();
  } else if (data?.document) {
    renderDocument(row, data.document);
    if (actionForm.hidden) $("form[data-doc-action]:not([hidden]) button", row)?.focus();
  } else {
    toast({ tone: "error", title: "That didn't work", text: failureText(status, data, "request") });
  }
}

/* ------------------------------------------------------------------ uploads */

const queue = [];
let running = 0;
let batch = { total: 0, added: 0, refused: 0, skipped: 0 };

function refuse(row, text, existing) {
  setStatus(row, "refused", "Not added");
  showProgress(row, false);
  setText(field(row, "message"), "");
  setError(row, text);
  if (existing) field(row, "link").setAttribute("href", urlFor(documentPattern, String(existing.id)));
  showActions(row, ["dismiss"]);
  row.removeAttribute("data-document-id");
}

function report() {
  const parts = [];
  if (batch.added) parts.push(`${plural(batch.added, "document")} added`);
  if (batch.refused) parts.push(`${batch.refused} not added (see below)`);
  if (batch.skipped) parts.push(`${plural(batch.skipped, "file")} in the folder skipped (not a document kind Hearth reads)`);
  const pending = batch.total - batch.added - batch.refused;
  if (pending > 0) parts.unshift(`Uploading ${pending} of ${batch.total}`);
  setText(summary, parts.join("; ") + (parts.length ? "." : ""));
}

async function uploadOne({ file, row }) {
  setStatus(row, "uploading", "Uploading");
  showProgress(row, 0);
  setText(field(row, "message"), `Uploading ${humanBytes(file.size)}`);
  const onProgress = (loaded, total) => {
    const done = loaded >= total;
    showProgress(row, done ? null : loaded / total, "Checking");
    setText(field(row, "message"), done ? "Uploaded; checking the file" : `Uploading: ${humanBytes(Math.min(file.size, loaded))} of ${humanBytes(file.size)}`);
  };
  const { status, data } = await upload(page.getAttribute("data-upload-url"), file, { onProgress, form }).done;
  if (status === 201 && data?.document) {
    rowFor(data.document.id)?.remove();
    renderDocument(row, pushed.get(data.document.id) || data.document);
    updateCount();
  } else if (status === 0) {
    refuse(row, "The connection was lost during the upload, so nothing was kept. Try again.");
  } else {
    refuse(row, failureText(status, data, "upload"), status === 409 ? data?.existing : null);
  }
  running -= 1;
  batch[status === 201 ? "added" : "refused"] += 1;
  report();
  pump();
}

function pump() {
  while (running < PARALLEL && queue.length) {
    running += 1;
    uploadOne(queue.shift());
  }
  if (!running && !queue.length && batch.total) announce(summary?.textContent || "Uploads finished");
}

const kinds = (page?.getAttribute("data-accept") || "").split(",").filter(Boolean);
const isDocumentName = (name) => kinds.some((suffix) => name.length > suffix.length && name.toLowerCase().endsWith(suffix));

// files: File objects; fromFolder: keep only document kinds and skip hidden files.
function enqueue(files, fromFolder) {
  if (!running && !queue.length) batch = { total: 0, added: 0, refused: 0, skipped: 0 };
  const maxBytes = Number(page.getAttribute("data-max-bytes")) || 0;
  for (const file of files) {
    const path = file.webkitRelativePath || file.name;
    if (fromFolder && (/(^|\/)\./.test(path) || !isDocumentName(file.name))) {
      batch.skipped += 1;
      continue;
    }
    batch.total += 1;
    const row = newRow(file);
    if (maxBytes && file.size > maxBytes) {
      refuse(row, `“${file.name}” is larger than the ${page.getAttribute("data-max-label")} limit for documents.`);
      batch.refused += 1;
      continue;
    }
    setStatus(row, "uploading", "Waiting");
    showProgress(row, 0);
    queue.push({ file, row });
  }
  report();
  pump();
}

/* ------------------------------------------------------------ drag and drop */

// Read a dropped entry into `into`, recursively for a folder (its entries come in batches of up to 100).
function readEntry(entry, into) {
  return new Promise((resolve) => {
    if (entry.isFile) {
      entry.file((file) => resolve(into.push(file)), () => resolve());
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const readBatch = () =>
        reader.readEntries((entries) => {
          if (!entries.length) return resolve();
          Promise.all(entries.map((child) => readEntry(child, into))).then(readBatch);
        }, () => resolve());
      readBatch();
    } else {
      resolve();
    }
  });
}

// Dropped files and folders: loose files are uploaded as they are, a folder's only if they are documents.
async function onDrop(event) {
  const transfer = event.dataTransfer;
  const entries = Array.from(transfer.items || []).map((item) => (item.kind === "file" ? item.webkitGetAsEntry?.() : null)).filter(Boolean);
  if (!entries.length) return enqueue(Array.from(transfer.files || []), false);
  const loose = [];
  const inFolders = [];
  await Promise.all(entries.map((entry) => readEntry(entry, entry.isDirectory ? inFolders : loose)));
  if (loose.length) enqueue(loose, false);
  if (inFolders.length) enqueue(inFolders, true);
}

/* ------------------------------------------------------------------- start */

if (page && list && template && form) {
  on("document", ({ document: payload } = {}) => {
    if (!payload || !Number.isInteger(payload.id)) return;
    pushed.set(payload.id, payload);
    const row = rowFor(payload.id);
    if (row) renderDocument(row, payload);
  });
  on("job", ({ job } = {}) => {
    if (!job || !Number.isInteger(job.id)) return;
    const previous = latestJob.get(job.id);
    if (previous && Number(job.seq) < Number(previous.seq)) return;
    latestJob.set(job.id, job);
    const row = rowForJob(job.id);
    if (row) renderJob(row, job);
  });
  // After a (re)connect, events may have been missed: re-read every document still being indexed.
  on("socket:open", () => {
    for (const row of $all("[data-document-id]", list)) if (ACTIVE.has(row.getAttribute("data-status"))) refresh(row);
  });
  list.addEventListener("submit", onAction);
  list.addEventListener("click", (event) => {
    if (!event.target.closest("[data-doc-dismiss]")) return;
    event.target.closest("li").remove();
    updateCount();
  });
  $("[data-no-js-submit]", form).hidden = true;
  $("[data-drop-hint]", form).hidden = false;
  for (const input of $all("input[type='file']", form)) {
    input.addEventListener("change", () => {
      if (input.files?.length) enqueue(Array.from(input.files), input.getAttribute("data-pick") === "folder");
      input.value = "";
    });
  }
  form.addEventListener("submit", (event) => event.preventDefault());
  pageDropTarget({
    onDragging(dragging) {
      $("[data-dropcover]", page).hidden = !dragging;
      $("[data-dropzone]", page).classList.toggle("is-dragging", dragging);
    },
    onDrop,
  });
}
