/* The Voice notes page: the recorder (MediaRecorder, level meter, timer, pause/resume), and the list's
   live transcription progress over Hearth's websocket (see hearth.js).

   Where the browser hides the microphone (plain http from another device, or no MediaRecorder) the
   recorder says why and what to do instead of showing a button that cannot work. Server data is only
   put in the page with textContent. */

import { upload } from "./lib.js";
import { MicRecording, blockedReason, clock, microphoneError } from "./recorder.js";

const Hearth = window.Hearth;
const page = document.querySelector("[data-voice-page]");
const BADGE = { queued: "queued", transcribing: "running", ready: "succeeded", failed: "failed" };
const ACTIVE = { queued: true, transcribing: true };

class Recorder {
  constructor(root) {
    this.root = root;
    this.buttons = {};
    root.querySelectorAll("[data-rec]").forEach((button) => {
      this.buttons[button.dataset.rec] = button;
    });
    this.timer = root.querySelector("[data-rec-timer]");
    this.level = root.querySelector("[data-rec-level]");
    this.state = root.querySelector("[data-rec-state]");
    this.buttons.start.addEventListener("click", () => this.start());
    this.buttons.pause.addEventListener("click", () => this.pause());
    this.buttons.resume.addEventListener("click", () => this.resume());
    this.buttons.stop.addEventListener("click", () => this.stop());
  }

  show(...names) {
    Object.entries(this.buttons).forEach(([name, button]) => {
      button.hidden = !names.includes(name);
    });
  }

  say(text) {
    this.state.textContent = text;
  }

  async start() {
    this.buttons.start.disabled = true;
    this.recording = new MicRecording({
      onLevel: (fraction) => {
        this.level.style.inlineSize = `${Math.round(fraction * 100)}%`;
      },
      onTick: (seconds) => {
        this.timer.textContent = clock(seconds);
      },
    });
    try {
      await this.recording.start();
    } catch (error) {
      this.buttons.start.disabled = false;
      this.say(microphoneError(error));
      return;
    }
    this.buttons.start.disabled = false;
    this.show("pause", "stop");
    this.say("Recording…");
  }

  pause() {
    this.recording.pause();
    this.show("resume", "stop");
    this.say("Paused.");
  }

  resume() {
    this.recording.resume();
    this.show("pause", "stop");
    this.say("Recording…");
  }

  async stop() {
    this.show();
    this.say("Uploading…");
    this.upload(await this.recording.stop());
  }

  async upload(file) {
    const title = this.root.querySelector("[data-rec-title]").value.trim();
    // The recording itself is the body (lib.js upload); its title and choices go in the address.
    const query = new URLSearchParams({ title: title || `Voice note, ${new Date().toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}` });
    this.root.querySelectorAll("[data-choice]").forEach((select) => query.append(select.name, select.value));
    const { status, data } = await upload(`${page.dataset.uploadUrl}?${query}`, file).done;
    if (status === 201 && data?.note) {
      this.say("Uploaded. Transcribing…");
      window.location.assign(data.note.url);
      return;
    }
    const error = data?.error || (status === 0 ? "The connection was lost during the upload." : `The upload failed (${status}).`);
    this.say(error);
    this.show("start");
    Hearth.toast({ title: "The recording was not saved", text: error, tone: "error" });
  }
}

function recorderSetUp() {
  const root = page.querySelector("[data-recorder]");
  if (!root) return;
  const blocked = blockedReason();
  if (blocked) {
    const box = root.querySelector("[data-recorder-blocked]");
    box.querySelector("[data-blocked-title]").textContent = blocked.title;
    box.querySelector("[data-blocked-text]").textContent = blocked.text;
    box.hidden = false;
    return;
  }
  root.querySelector("[data-recorder-body]").hidden = false;
  new Recorder(root);
}

function rowUpdate(row, note) {
  const field = (name) => row.querySelector(`[data-field='${name}']`);
  row.dataset.status = note.status;
  row.dataset.jobId = note.job || "";
  const badge = field("status");
  badge.textContent = note.status_label;
  badge.className = `badge badge--${BADGE[note.status] || "unknown"}`;
  field("progress-box").hidden = !ACTIVE[note.status];
  field("error").textContent = note.error || "";
  field("error-box").hidden = !note.error;
  const segments = field("segments");
  segments.textContent = `${note.segment_count} segment${note.segment_count === 1 ? "" : "s"}`;
  segments.hidden = !note.segment_count;
  if (!ACTIVE[note.status]) field("message").hidden = true;
}

function progressUpdate(row, job) {
  const field = (name) => row.querySelector(`[data-field='${name}']`);
  const percent = Math.round((job.progress || 0) * 100);
  field("progress").value = percent;
  field("percent").textContent = `${percent}%`;
  field("message").textContent = job.message || "";
  field("message").hidden = !job.message || !job.can_cancel;
}

function listSetUp() {
  const list = page.querySelector("[data-voice-list]");
  Hearth.on("voice", (message) => {
    const row = list.querySelector(`[data-note-id='${Number(message.note?.id)}']`);
    if (row) rowUpdate(row, message.note);
  });
  Hearth.on("job", (message) => {
    const job = message.job || message;
    const row = list.querySelector(`[data-job-id='${Number(job?.id)}']`);
    if (row && ACTIVE[row.dataset.status]) progressUpdate(row, job);
  });
}

if (page && Hearth) {
  recorderSetUp();
  listSetUp();
}
