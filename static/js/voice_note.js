/* A voice note's page: the transcript beside the player. Selecting a time plays from there; the line
   being played is highlighted (and kept in view while playing); ?t=102 opens the player at 1:42.
   Edit corrects a line in place. While the note is being transcribed its progress is shown live, and
   the page reloads with the transcript when the job ends. Server data is only set with textContent. */

const Hearth = window.Hearth;
const page = document.querySelector("[data-note-page]");
const ACTIVE = { queued: true, transcribing: true };

function segmentsOf(list) {
  return Array.from(list.querySelectorAll("[data-number]")).map((element) => ({
    element,
    start: Number(element.dataset.start),
    end: Number(element.dataset.end),
  }));
}

/* The segment playing at `time`: the last one that started at or before it. */
export function segmentAt(segments, time) {
  let found = null;
  for (const segment of segments) {
    if (segment.start <= time + 0.25) found = segment; // a seek lands on the nearest audio frame, a little early
    else break;
  }
  return found;
}

function playerSetUp(player, list) {
  const segments = segmentsOf(list);
  let current = null;
  const highlight = (follow) => {
    const segment = segmentAt(segments, player.currentTime);
    if (segment === current) return;
    if (current) {
      current.element.classList.remove("voice-seg--current");
      current.element.removeAttribute("aria-current");
    }
    current = segment;
    if (!segment) return;
    segment.element.classList.add("voice-seg--current");
    segment.element.setAttribute("aria-current", "true");
    if (follow) segment.element.scrollIntoView({ block: "nearest", behavior: "smooth" });
  };
  player.addEventListener("timeupdate", () => highlight(!player.paused));
  player.addEventListener("seeked", () => highlight(true));
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-seek]");
    if (!button) return;
    player.currentTime = Number(button.closest("[data-number]").dataset.start);
    highlight(true);
    player.play().catch(() => {});
  });
  const start = Number(page.dataset.start);
  if (page.dataset.start !== "" && Number.isFinite(start)) {
    // Citations name whole seconds: a segment that starts within that second is where to play from.
    const cited = segments.find((segment) => Math.floor(segment.start) === start);
    const seek = () => {
      player.currentTime = cited ? cited.start : start;
      highlight(true);
    };
    if (player.readyState >= 1) seek();
    else player.addEventListener("loadedmetadata", seek, { once: true });
  }
}

function editSetUp(list) {
  list.addEventListener("click", (event) => {
    const item = event.target.closest("[data-number]");
    if (!item) return;
    const form = item.querySelector("[data-seg-form]");
    if (event.target.closest("[data-seg-edit]")) {
      form.hidden = false;
      item.querySelector("[data-seg-text]").hidden = true;
      event.target.closest("[data-seg-edit]").hidden = true;
      form.querySelector("textarea").focus();
    } else if (event.target.closest("[data-seg-cancel]")) {
      editClose(item);
    }
  });
  list.addEventListener("submit", async (event) => {
    const form = event.target.closest("[data-seg-form]");
    if (!form) return;
    event.preventDefault();
    const item = form.closest("[data-number]");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRFToken": Hearth.csrfToken(form) },
        credentials: "same-origin",
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || `Not saved (${response.status}).`);
      item.querySelector("[data-seg-text]").textContent = answer.segment.text;
      form.querySelector("textarea").value = answer.segment.text;
      editClose(item);
      Hearth.toast({ title: "Correction saved", text: "Search uses it in a moment.", tone: "success", timeout: 3000 });
    } catch (error) {
      Hearth.toast({ title: "The correction was not saved", text: error.message, tone: "error" });
    }
  });
}

function editClose(item) {
  item.querySelector("[data-seg-form]").hidden = true;
  item.querySelector("[data-seg-text]").hidden = false;
  item.querySelector("[data-seg-edit]").hidden = false;
}

function liveSetUp() {
  const noteId = Number(page.dataset.noteId);
  const bar = page.querySelector("[data-note-progress]");
  const percent = page.querySelector("[data-note-percent]");
  const message = page.querySelector("[data-note-message]");
  Hearth.on("voice", (event) => {
    const note = event.note;
    if (!note || note.id !== noteId) return;
    page.dataset.jobId = note.job || "";
    if (note.status !== page.dataset.status && !ACTIVE[note.status]) window.location.reload();
  });
  Hearth.on("job", (event) => {
    const job = event.job;
    if (!job || !bar || String(job.id) !== page.dataset.jobId) return;
    const value = Math.round((job.progress || 0) * 100);
    bar.value = value;
    percent.textContent = `${value}%`;
    if (job.message) message.textContent = job.message;
  });
}

if (page && Hearth) {
  const player = page.querySelector("[data-player]");
  const list = page.querySelector("[data-transcript]");
  if (player && list) {
    playerSetUp(player, list);
    editSetUp(list);
  }
  liveSetUp();
}
