/* Push-to-talk in the chat composer: the microphone button records (click to start and stop, or hold
   it down and let go), shows a timer and a level meter, then sends the recording to Hearth, where a
   worker's Whisper turns it into text (assistant/voice/dictation.py). The words are put in the message
   box to edit and send: nothing is sent by itself. No voice note is kept.

   Recording itself is recorder.js, shared with the Voice notes page. Server data only ever goes in
   with textContent (or into the textarea's value). */
import { $, on, upload, urlFor, failureText } from "./lib.js";
import { MicRecording, blockedReason, clock, microphoneError } from "./recorder.js";

const HOLD_MS = 400; // pressed longer than this, letting go stops the recording
const MAX_SECONDS = 170; // the server takes at most three minutes
const POLL_MS = 3000; // a missed push is caught up this often

const button = $("[data-ptt]");
const box = $("[data-ptt-box]");
const textarea = $("[data-composer-text]");
const part = (name) => box && $(`[data-ptt-${name}]`, box);
const ui = { timer: part("timer"), meter: part("meter"), level: part("level"), dot: part("dot"), progress: part("progress"), text: part("text"), link: part("link"), stop: part("stop"), cancel: part("cancel") };

let state = "idle"; // idle | starting | recording | sending | transcribing
let recording = null;
let pressedAt = 0;
let pressStarted = false;
let jobId = 0;
let pollTimer = 0;

function setState(next) {
  state = next;
  const live = next === "recording" || next === "starting";
  button.setAttribute("aria-pressed", String(live));
  button.classList.toggle("ptt-button--on", live);
  button.toggleAttribute("aria-busy", next === "sending" || next === "transcribing");
  button.disabled = textarea.disabled || next === "sending" || next === "transcribing";
  $("[data-ptt-label]", button).textContent = live ? "Stop recording and write it out" : "Speak your message";
  box.classList.toggle("ptt--recording", next === "recording");
  ui.stop.hidden = next !== "recording";
}

/* The strip's line: `progress` a fraction (or null: busy, not measurable), `error` in the alert style. */
function say(text, { progress, error = false, link = false, recording: live = false } = {}) {
  box.hidden = false;
  box.classList.toggle("ptt--error", error);
  ui.text.textContent = text;
  ui.text.setAttribute("role", error ? "alert" : "status");
  ui.link.hidden = !link;
  for (const element of [ui.timer, ui.meter, ui.dot]) element.hidden = !live;
  ui.progress.hidden = progress === undefined;
  if (progress === null) ui.progress.removeAttribute("value");
  else if (progress !== undefined) ui.progress.value = Math.round(Math.max(0, Math.min(1, progress)) * 100);
}

function close() {
  box.hidden = true;
  ui.text.textContent = "";
}

function fail(text, options = {}) {
  stopTracking();
  setState("idle");
  say(text, { error: true, ...options });
}

async function start() {
  const blocked = blockedReason("type your message instead");
  if (blocked) {
    say(`${blocked.title} ${blocked.text}${blocked.insecure ? " Open Hearth at its https:// address to speak your message." : ""}`, { error: true, link: !!blocked.insecure });
    return;
  }
  setState("starting");
  say("Starting the microphone…", { recording: true });
  recording = new MicRecording({
    onLevel: (fraction) => {
      ui.level.style.inlineSize = `${Math.round(fraction * 100)}%`;
    },
    onTick: (seconds) => {
      ui.timer.textContent = clock(seconds);
      if (seconds >= MAX_SECONDS && state === "recording") finish();
    },
  });
  try {
    await recording.start();
  } catch (error) {
    fail(microphoneError(error, { again: "the microphone button", instead: "type your message instead" }));
    return;
  }
  if (state !== "starting") {
    recording.cancel(); // cancelled while the browser was asking for the microphone
    return;
  }
  setState("recording");
  say("Listening… press the microphone again, or let go of it, when you are done.", { recording: true });
}

async function finish() {
  if (state !== "recording") return;
  setState("sending");
  const file = await recording.stop();
  if (recording.elapsed < 0.6) {
    fail("That was too short to hear anything. Press the microphone, speak, then press it again.");
    return;
  }
  say("Sending the recording…", { progress: null });
  const { status, data } = await upload(box.getAttribute("data-dictate-url"), file).done;
  if (state !== "sending") return; // cancelled meanwhile
  if (status !== 202 || !Number.isInteger(data?.job?.id)) {
    fail(failureText(status, data, "recording"));
    return;
  }
  jobId = data.job.id;
  setState("transcribing");
  pollTimer = window.setInterval(refresh, POLL_MS);
  follow(data.job);
}

function stopTracking() {
  window.clearInterval(pollTimer);
  pollTimer = 0;
  jobId = 0;
}

/* A job event (or a re-read): progress, the text once it is ready, or why not. */
function follow(job) {
  if (!job || job.id !== jobId) return;
  if (job.status === "succeeded") {
    refresh();
  } else if (job.status === "failed" || job.status === "cancelled") {
    fail(job.error || "The recording could not be written out. Try again, or type your message.");
  } else {
    const waiting = job.status === "queued";
    say(waiting ? "Waiting for the speech model (another recording is being transcribed)…" : "Writing out what you said…", { progress: waiting ? null : job.progress });
  }
}

async function refresh() {
  const id = jobId;
  if (!id) return;
  let data = null;
  try {
    const response = await window.fetch(urlFor(box.getAttribute("data-result-url"), id), { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    data = response.ok ? await response.json() : null;
  } catch (error) {
    return; // the next poll tries again
  }
  if (id !== jobId || !data?.job) return;
  if (data.job.status === "succeeded") insert(typeof data.text === "string" ? data.text : "");
  else follow(data.job);
}

function insert(text) {
  stopTracking();
  setState("idle");
  if (!text.trim()) {
    say("No speech was heard in the recording. Speak closer to the microphone, or type your message.", { error: true });
    return;
  }
  const before = textarea.value.replace(/\s+$/, "");
  textarea.value = before ? `${before} ${text.trim()}` : text.trim();
  textarea.dispatchEvent(new Event("input", { bubbles: true })); // the composer resizes, keeps the draft, enables Send
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  close();
}

function cancel() {
  if (recording && (state === "recording" || state === "starting")) recording.cancel();
  stopTracking();
  setState("idle");
  close();
}

function toggle() {
  if (state === "idle") start();
  else if (state === "recording") finish();
}

function listen() {
  button.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || button.disabled) return;
    event.preventDefault(); // the message box keeps the focus
    pressedAt = performance.now();
    pressStarted = state === "idle";
    toggle();
  });
  button.addEventListener("pointerup", () => {
    const held = performance.now() - pressedAt > HOLD_MS;
    if (pressStarted && held && state === "recording") finish(); // hold to talk: letting go stops
    pressStarted = false;
  });
  button.addEventListener("click", (event) => {
    if (event.detail === 0) toggle(); // Enter or Space: no pointer events came first
  });
  button.addEventListener("contextmenu", (event) => event.preventDefault()); // a long press on a phone
  ui.stop.addEventListener("click", finish);
  ui.cancel.addEventListener("click", cancel);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && (state === "recording" || state === "starting")) cancel();
  });
  on("job", (event) => follow(event.job));
  on("socket:open", refresh);
}

if (button && box && textarea) {
  listen();
  setState("idle");
}
