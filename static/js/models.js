/* The Models page: browser uploads with a progress bar, imports by server path, and the live progress
   of the import jobs that follow (over the events websocket).

   An upload is checked here before a byte is sent (size limit, GGUF signature), then again by the
   server as the bytes arrive, then fully by a worker. Without JavaScript the same forms post normally. */
import { $, $all, field, setText, announce, urlFor, humanBytes, setBadge, setProgress, newerSeq, on, send, postForm, fetchPage, upload, failureText } from "./lib.js";

const page = $("[data-models-page]");
const list = page && $("[data-import-list]", page);
const template = document.getElementById("import-row-template");
const uploadForm = page && $("[data-upload-form]", page);
const pathForm = page && $("[data-path-form]", page);

const MODEL_KINDS = new Set(["model_import", "models_scan", "speech_import"]);
const FINAL = new Set(["succeeded", "failed", "cancelled"]);
const TONE = { uploading: "running", queued: "queued", running: "running", succeeded: "succeeded", failed: "failed", cancelled: "cancelled" };
const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const uploads = new WeakMap(); // row -> XMLHttpRequest while its upload is in flight
const latest = new Map(); // job id -> newest payload seen, for events that beat the response naming the job

function showError(text) {
  const box = $("[data-import-error]", page);
  if (!box) return;
  $("[data-import-error-text]", page).textContent = text || "";
  box.hidden = !text;
}

/* ------------------------------------------------------------ import rows */

function addRow(title) {
  const row = template.content.firstElementChild.cloneNode(true);
  field(row, "title").textContent = title;
  list.prepend(row);
  list.hidden = false;
  return row;
}

// state: {status, label, fraction (null while nothing can be measured), message, error, canCancel}
function render(row, state) {
  const tone = TONE[state.status] || "queued";
  row.className = `job job--${tone}`;
  row.setAttribute("data-status", state.status);
  setBadge(field(row, "status"), tone, state.label || state.status);
  setProgress(field(row, "progress"), field(row, "percent"), state.fraction, state.label);
  setText(field(row, "message"), state.message);
  field(row, "error").textContent = state.error || "";
  field(row, "error-box").hidden = !state.error;
  $("[data-row-action='cancel']", row).hidden = !state.canCancel;
  $("[data-row-action='dismiss']", row).hidden = !FINAL.has(state.status);
}

function renderJob(row, job) {
  if (!newerSeq(row, job.seq)) return;
  render(row, {
    status: job.status,
    label: job.status_label || job.status,
    fraction: job.status === "running" && !job.progress ? null : Number(job.progress) || 0,
    message: job.message === job.status_label ? "" : job.message, // no "Failed" beside a "Failed" badge
    error: job.error,
    canCancel: !!job.can_cancel,
  });
  if (FINAL.has(job.status) && !row.hasAttribute("data-done")) {
    row.setAttribute("data-done", "");
    announce(`${job.title || "Import"}: ${job.status_label || job.status}. ${job.error || job.message || ""}`);
    if (job.status === "succeeded") refreshModels();
  }
}

function attachJob(row, job) {
  row.setAttribute("data-job-id", String(job.id));
  const newer = latest.get(job.id);
  renderJob(row, newer && Number(newer.seq) > Number(job.seq) ? newer : job);
}

// Cancel and Dismiss in the import rows (members have no import card, so no rows).
async function onRowAction(event) {
  const form = event.target;
  const row = form.closest("[data-import-row]");
  if (!row) return;
  event.preventDefault();
  if (form.getAttribute("data-row-action") === "dismiss") {
    row.remove();
    list.hidden = !list.children.length;
  } else if (uploads.has(row)) {
    uploads.get(row).abort();
  } else if (row.getAttribute("data-job-id")) {
    const { data } = await postForm(urlFor(page.getAttribute("data-cancel-pattern"), row.getAttribute("data-job-id")), { form: uploadForm || pathForm });
    if (data?.job) renderJob(row, data.job);
  }
}

/* ------------------------------------------------------- the model list */

let refreshing = false;
let refreshAgain = false;

// Re-read the page and swap in its list of models; imports in progress stay as they are.
async function refreshModels() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  const fresh = (await fetchPage(window.location.pathname))?.querySelector("[data-models-body]");
  const current = $("[data-models-body]", page);
  if (fresh && current) current.replaceWith(document.adoptNode(fresh)); // else a reload shows the new model
  refreshing = false;
  if (refreshAgain) {
    refreshAgain = false;
    refreshModels();
  }
}

/* ---------------------------------------------------------------- upload */

function busy(form, on) {
  const button = $("button[type='submit']", form);
  if (!button) return;
  button.disabled = on;
  button.toggleAttribute("aria-busy", on);
}

// The same checks and words as the server's gguf_header_check, on the file's first 24 bytes.
async function headerProblem(file) {
  let buffer;
  try {
    buffer = await file.slice(0, 24).arrayBuffer();
  } catch (error) {
    return ""; // unreadable here: the server checks it anyway
  }
  if (buffer.byteLength < 24) return "The file is too short to be a GGUF model.";
  const bytes = new Uint8Array(buffer);
  if (GGUF_MAGIC.some((byte, index) => bytes[index] !== byte)) {
    return (
      "This is not a GGUF model file (it does not start with the GGUF signature). " +
      "Hearth runs llama.cpp models in GGUF format; convert other formats with llama.cpp's convert script."
    );
  }
  const version = new DataView(buffer).getUint32(4, true);
  return version === 2 || version === 3 ? "" : `GGUF version ${version} is not supported (Hearth reads versions 2 and 3).`;
}

async function uploadFile(file) {
  const row = addRow(`Import ${file.name}`);
  let sent = 0;
  render(row, { status: "uploading", label: "Uploading", fraction: 0, message: "Starting the upload", canCancel: true });
  const onProgress = (loaded, total) => {
    sent = loaded / total;
    const done = loaded >= total;
    render(row, {
      status: "uploading",
      label: done ? "Checking" : "Uploading",
      fraction: done ? null : sent,
      message: done
        ? `Uploaded ${humanBytes(file.size)}; the server is checking the file`
        : `Uploading: ${humanBytes(Math.min(file.size, loaded))} of ${humanBytes(file.size)}`,
      canCancel: !done,
    });
  };
  const request = upload(uploadForm.action, file, { onProgress, form: uploadForm });
  uploads.set(row, request.xhr);
  const { status, data, aborted } = await request.done;
  uploads.delete(row);
  if (status === 202 && data?.job) {
    attachJob(row, data.job);
    uploadForm.reset();
  } else if (aborted) {
    render(row, { status: "cancelled", label: "Cancelled", fraction: sent, message: "Upload cancelled; nothing was kept.", canCancel: false });
  } else {
    const lost = status === 0 && "The connection was lost during the upload, so nothing was kept. Try again.";
    const text = lost || failureText(status, data, "upload");
    render(row, { status: "failed", label: lost ? "Failed" : "Refused", fraction: sent, error: text, canCancel: false });
    if (!lost) announce(`Upload refused. ${text}`);
  }
}

async function onUpload(event) {
  event.preventDefault();
  showError("");
  const input = $("input[type='file']", uploadForm);
  const file = input.files?.[0];
  if (!file) {
    showError("Choose a .gguf model file to upload.");
    input.focus();
    return;
  }
  const limit = Number(uploadForm.getAttribute("data-max-bytes"));
  if (limit && file.size > limit) {
    const max = uploadForm.getAttribute("data-max-label");
    showError(`This file is ${humanBytes(file.size)}, more than the ${max} upload limit. If it is already on the computer Hearth runs on, import it by its path instead.`);
    return;
  }
  busy(uploadForm, true);
  const problem = await headerProblem(file);
  busy(uploadForm, false);
  if (problem) showError(`${file.name}: ${problem}`);
  else uploadFile(file);
}

/* ------------------------------------------------------------ by path */

async function onPath(event) {
  event.preventDefault();
  showError("");
  const input = $("input[name='path']", pathForm);
  if (!input.value.trim()) {
    showError("Enter the full path of a .gguf file on this machine.");
    input.focus();
    return;
  }
  busy(pathForm, true);
  const { status, data } = await postForm(pathForm.action, { body: new FormData(pathForm), form: pathForm });
  busy(pathForm, false);
  if (data?.job) {
    attachJob(addRow(data.job.title), data.job);
    pathForm.reset();
    input.removeAttribute("aria-invalid");
  } else {
    showError(failureText(status, data, "import"));
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

/* ------------------------------------------------------------------ start */

if (page) {
  on("job", ({ job } = {}) => {
    if (!job || !MODEL_KINDS.has(job.kind) || !Number.isInteger(job.id)) return;
    const previous = latest.get(job.id);
    if (!previous || Number(job.seq) >= Number(previous.seq)) latest.set(job.id, job);
    const row = list?.querySelector(`[data-job-id='${Number(job.id)}']`);
    if (row) renderJob(row, job);
    else if (job.status === "succeeded") refreshModels(); // e.g. a rescan started with the button in the page header
  });
  // After a reconnect, events may have been missed: ask again for every job still shown as running.
  on("socket:open", (info) => {
    for (const row of list ? $all("[data-job-id]:not([data-done])", list) : []) {
      send({ action: "job.get", id: Number(row.getAttribute("data-job-id")) });
    }
    if (info?.reconnect) refreshModels();
  });
}

if (list && template) {
  list.addEventListener("submit", onRowAction);
  uploadForm?.addEventListener("submit", onUpload);
  pathForm?.addEventListener("submit", onPath);
  try {
    for (const job of JSON.parse(document.getElementById("model-import-jobs").textContent)) {
      if (Number.isInteger(job?.id)) attachJob(addRow(job.title), job);
    }
  } catch (error) {
    /* imports already running: nothing to show */
  }
}
