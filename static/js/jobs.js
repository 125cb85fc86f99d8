/* The Jobs page: rows update live from the events websocket, new jobs appear at the top (cloned
   from the server-rendered #job-row-template), and Cancel / Retry / Run system check post in the
   background. The database is the record: after any (re)connect every shown job is asked for again. */
import { $, $all, field, setText, announce, urlFor, setBadge, setProgress, newerSeq, on, send, submitJobForm } from "./lib.js";

const list = $("[data-jobs-list]");
const template = document.getElementById("job-row-template");
const FINAL = new Set(["succeeded", "failed", "cancelled"]);
const KNOWN = new Set(["queued", "running", ...FINAL]);

const isJob = (job) => job && typeof job === "object" && Number.isInteger(job.id) && typeof job.status === "string";
const rowFor = (id) => list.querySelector(`[data-job-id='${Number(id)}']`);

function buildRow(job) {
  const row = template.content.firstElementChild.cloneNode(true);
  const id = String(job.id);
  row.setAttribute("data-job-id", id);
  field(row, "title").id = `job-${id}-title`;
  field(row, "progress").setAttribute("aria-labelledby", `job-${id}-title`);
  setText(field(row, "number"), `#${id}`);
  for (const form of $all("form[data-job-action]", row)) form.action = urlFor(form.getAttribute("data-url-pattern"), id);
  return row;
}

function showActions(row, job) {
  const active = document.activeElement;
  const hadFocus = row.contains(active) && !!active.closest("form[data-job-action]");
  for (const form of $all("form[data-job-action]", row)) {
    form.hidden = form.getAttribute("data-job-action") === "cancel" ? !job.can_cancel : !job.can_retry;
  }
  // The button that had focus went away (Cancel -> Retry): keep the keyboard member in the row.
  if (hadFocus && active.closest("form[hidden]")) ($("form[data-job-action]:not([hidden]) button", row) || field(row, "title")).focus();
}

function updateRow(row, job) {
  if (!newerSeq(row, job.seq)) return;
  const previous = row.getAttribute("data-status");
  const status = KNOWN.has(job.status) ? job.status : "unknown";
  row.setAttribute("data-status", status);
  row.className = `job job--${status}`;
  if (typeof job.title === "string" && job.title) field(row, "title").textContent = job.title;
  setBadge(field(row, "status"), status, job.status_label || job.status);
  const fraction = Math.max(0, Math.min(1, Number(job.progress) || 0));
  const starting = status === "running" && fraction === 0;
  setProgress(field(row, "progress"), field(row, "percent"), starting ? null : fraction, "Starting");
  setText(field(row, "message"), typeof job.message === "string" ? job.message : "");
  field(row, "error").textContent = job.error || "";
  field(row, "error-box").hidden = !job.error;
  if (FINAL.has(status) && previous && !FINAL.has(previous)) setText(field(row, "finished"), "Finished just now");
  else if (!FINAL.has(status)) setText(field(row, "finished"), "");
  showActions(row, job);
  if (previous && previous !== status && FINAL.has(status)) {
    announce(`${job.title || `Job #${job.id}`}: ${job.status_label || status}${job.error ? `. ${job.error}` : ""}`);
  }
}

function showList() {
  list.hidden = false;
  for (const element of $all("[data-jobs-empty]")) element.hidden = true;
  for (const element of $all("[data-jobs-when-any]")) element.hidden = false;
}

// The filter the page was opened with: "" hides chat answers, "all" shows everything, else one kind.
function shown(kind) {
  const filter = list.getAttribute("data-kind-filter") || "";
  const known = $all("#jobs-kind option").some((option) => option.value === filter);
  if (filter === "all") return true;
  return known && filter ? kind === filter : kind !== "chat";
}

function handleJob(job) {
  if (!isJob(job)) return;
  let row = rowFor(job.id);
  if (!row) {
    if (!shown(job.kind)) return;
    row = buildRow(job);
    list.prepend(row);
    showList();
    row.classList.add("job--new");
  }
  updateRow(row, job);
}

// Cancel, Retry and Run system check: the answer's job updates its row, or adds one to land on.
async function onSubmit(event) {
  const form = event.target;
  if (event.defaultPrevented || !form.matches("form[data-job-form]")) return;
  const fromRow = form.closest("[data-job-id]");
  const job = await submitJobForm(event);
  if (!job) return;
  handleJob(job);
  const row = rowFor(job.id);
  if (row && !fromRow) field(row, "title").focus(); // a new row: land on it, not on its Cancel button
  else if (row && form.hidden) ($("form[data-job-action]:not([hidden]) button", row) || field(row, "title")).focus();
}

if (list && template) {
  try {
    // Each row's last seen seq, from the payloads the page was rendered with.
    for (const job of JSON.parse(document.getElementById("job-payloads").textContent)) {
      const row = isJob(job) && rowFor(job.id);
      if (row) row.setAttribute("data-seq", String(Number(job.seq) || 0));
    }
  } catch (error) {
    /* rows keep their rendered state */
  }
  $("#main").addEventListener("submit", onSubmit);
  $("#jobs-kind")?.addEventListener("change", (event) => event.target.form.submit());
  on("job", (message) => handleJob(message.job));
  on("socket:open", () => {
    for (const row of $all("[data-job-id]", list)) send({ action: "job.get", id: Number(row.getAttribute("data-job-id")) });
  });
}
