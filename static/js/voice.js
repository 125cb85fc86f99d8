/* The Voice notes page: the recorder (MediaRecorder, level meter, timer, pause/resume), and the list's
   live transcription progress over Hearth's websocket (see hearth.js).

   Where the browser hides the microphone (plain http from another device, or no MediaRecorder) the
   recorder says why and what to do instead of showing a button that cannot work. Server data is only
   put in the page with textContent. */

import { upload } from "./lib.js";

const Hearth = window.Hearth;
const page = document.querySelector("[data-voice-page]");
// What MediaRecorder is asked for, best first: Chrome and Firefox take WebM/Opus, Safari only MP4/AAC.
const MIME_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus", "audio/ogg"];
const SUFFIX = { "audio/webm": ".webm", "audio/mp4": ".m4a", "audio/ogg": ".ogg" };
const BADGE = { queued: "queued", transcribing: "running", ready: "succeeded", failed: "failed" };
const ACTIVE = { queued: true, transcribing: true };

export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

export function pickMimeType(recorder) {
  if (!recorder || typeof recorder.isTypeSupported !== "function") return "";
  return MIME_TYPES.find((type) => recorder.isTypeSupported(type)) || "";
}

/* Why recording cannot work here, or "" when it can. */
function blockedReason() {
  if (!window.isSecureContext) {
    return {
      title: "Recording needs a secure connection.",
      text: `This page was opened at ${window.location.origin}, which is plain http from another device, and browsers turn the microphone off there.`,
    };
  }
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
    return { title: "This browser does not let web pages use the microphone.", text: "Try another browser, or upload a recording instead." };
  }
  if (typeof window.MediaRecorder !== "function") {
    return { title: "This browser cannot record audio in a web page.", text: "Update it or try another browser, or upload a recording instead." };
  }
  return null;
}

function microphoneError(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Hearth may not use the microphone: permission was refused. Allow the microphone for this site in the browser's settings, then press Record again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") return "No microphone was found. Plug one in, or upload a recording instead.";
  if (name === "NotReadableError") return "The microphone is busy in another app. Close it there and press Record again.";
  return `The microphone could not be started (${name || "unknown error"}).`;
}

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
    this.chunks = [];
    this.elapsed = 0;
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
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (error) {
      this.buttons.start.disabled = false;
      this.say(microphoneError(error));
      return;
    }
    const mimeType = pickMimeType(window.MediaRecorder);
    this.media = new MediaRecorder(this.stream, mimeType ? { mimeType } : undefined);
    this.chunks = [];
    this.media.addEventListener("dataavailable", (event) => event.data.size && this.chunks.push(event.data));
    this.media.addEventListener("stop", () => this.upload());
    this.media.start(1000);
    this.elapsed = 0;
    this.resumedAt = performance.now();
    this.meterStart();
    this.tick = window.setInterval(() => this.showTime(), 250);
    this.buttons.start.disabled = false;
    this.show("pause", "stop");
    this.say("Recording…");
  }

  now() {
    return this.elapsed + (this.resumedAt ? (performance.now() - this.resumedAt) / 1000 : 0);
  }

  showTime() {
    this.timer.textContent = clock(this.now());
  }

  pause() {
    this.media.pause();
    this.elapsed = this.now();
    this.resumedAt = 0;
    this.show("resume", "stop");
    this.say("Paused.");
  }

  resume() {
    this.media.resume();
    this.resumedAt = performance.now();
    this.show("pause", "stop");
    this.say("Recording…");
  }

  stop() {
    this.elapsed = this.now();
    this.resumedAt = 0;
    window.clearInterval(this.tick);
    this.showTime();
    this.meterStop();
    this.show();
    this.say("Uploading…");
    this.media.stop();
    this.stream.getTracks().forEach((track) => track.stop());
  }

  meterStart() {
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) return;
    this.audio = new AudioContext();
    const analyser = this.audio.createAnalyser();
    analyser.fftSize = 1024;
    this.audio.createMediaStreamSource(this.stream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const draw = () => {
      analyser.getByteTimeDomainData(samples);
      let sum = 0;
      for (const value of samples) sum += ((value - 128) / 128) ** 2;
      const rms = Math.sqrt(sum / samples.length);
      this.level.style.inlineSize = `${Math.min(100, Math.round(rms * 300))}%`;
      this.frame = window.requestAnimationFrame(draw);
    };
    draw();
  }

  meterStop() {
    window.cancelAnimationFrame(this.frame);
    this.level.style.inlineSize = "0%";
    if (this.audio) this.audio.close();
  }

  async upload() {
    const type = (this.media.mimeType || this.chunks[0]?.type || "audio/webm").split(";")[0];
    const file = new File(this.chunks, `recording${SUFFIX[type] || ".webm"}`, { type });
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
