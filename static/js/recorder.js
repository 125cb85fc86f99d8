/* Recording from the microphone, shared by the Voice notes page (voice.js) and push-to-talk in the chat
   composer (push_to_talk.js): which audio type to ask MediaRecorder for (Safari on iOS records only
   MP4/AAC), why recording cannot work in this browser, the microphone's errors in words, and a
   recording with a level meter and a clock that pauses.

     const recording = new MicRecording({ onLevel: (fraction) => ..., onTick: (seconds) => ... });
     await recording.start();      // throws the getUserMedia error: say microphoneError(error)
     recording.pause(); recording.resume();
     const file = await recording.stop();   // a File named recording.webm / .m4a / .ogg
     recording.cancel();           // stop and keep nothing */

// What MediaRecorder is asked for, best first: Chrome and Firefox take WebM/Opus, Safari only MP4/AAC.
export const MIME_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus", "audio/ogg"];
const SUFFIX = { "audio/webm": ".webm", "audio/mp4": ".m4a", "audio/ogg": ".ogg" };

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

/* Why recording cannot work here ({title, text, insecure}), or null when it can. `instead` is what the
   member can do without the microphone ("upload a recording instead", "type your message instead"). */
export function blockedReason(instead = "upload a recording instead") {
  if (!window.isSecureContext) {
    return {
      insecure: true,
      title: "Recording needs a secure connection.",
      text: `This page was opened at ${window.location.origin}, which is plain http from another device, and browsers turn the microphone off there.`,
    };
  }
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
    return { title: "This browser does not let web pages use the microphone.", text: `Try another browser, or ${instead}.` };
  }
  if (typeof window.MediaRecorder !== "function") {
    return { title: "This browser cannot record audio in a web page.", text: `Update it or try another browser, or ${instead}.` };
  }
  return null;
}

/* The getUserMedia error in words, with what to do; `again` names the button to press again. */
export function microphoneError(error, { again = "Record", instead = "upload a recording instead" } = {}) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return `Hearth may not use the microphone: permission was refused. Allow the microphone for this site in the browser's settings, then press ${again} again.`;
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") return `No microphone was found. Plug one in, or ${instead}.`;
  if (name === "NotReadableError") return `The microphone is busy in another app. Close it there and press ${again} again.`;
  return `The microphone could not be started (${name || "unknown error"}).`;
}

export class MicRecording {
  constructor({ onLevel = () => {}, onTick = () => {} } = {}) {
    this.onLevel = onLevel;
    this.onTick = onTick;
    this.chunks = [];
    this.elapsed = 0;
    this.resumedAt = 0;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    const mimeType = pickMimeType(window.MediaRecorder);
    this.media = new MediaRecorder(this.stream, mimeType ? { mimeType } : undefined);
    this.chunks = [];
    this.media.addEventListener("dataavailable", (event) => event.data.size && this.chunks.push(event.data));
    this.stopped = new Promise((resolve) => this.media.addEventListener("stop", resolve, { once: true }));
    this.media.start(1000);
    this.elapsed = 0;
    this.resumedAt = performance.now();
    this.meterStart();
    this.tick = window.setInterval(() => this.onTick(this.seconds()), 250);
  }

  seconds() {
    return this.elapsed + (this.resumedAt ? (performance.now() - this.resumedAt) / 1000 : 0);
  }

  pause() {
    this.media.pause();
    this.elapsed = this.seconds();
    this.resumedAt = 0;
  }

  resume() {
    this.media.resume();
    this.resumedAt = performance.now();
  }

  /* Stop, release the microphone, and resolve to the recording as a File. */
  async stop() {
    this.release();
    this.media.stop();
    await this.stopped;
    const type = (this.media.mimeType || this.chunks[0]?.type || "audio/webm").split(";")[0];
    return new File(this.chunks, `recording${SUFFIX[type] || ".webm"}`, { type });
  }

  cancel() {
    this.release();
    if (this.media && this.media.state !== "inactive") this.media.stop();
    this.chunks = [];
  }

  release() {
    this.elapsed = this.seconds();
    this.resumedAt = 0;
    window.clearInterval(this.tick);
    this.onTick(this.elapsed);
    this.meterStop();
    this.stream?.getTracks().forEach((track) => track.stop());
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
      this.onLevel(Math.min(1, Math.sqrt(sum / samples.length) * 3));
      this.frame = window.requestAnimationFrame(draw);
    };
    draw();
  }

  meterStop() {
    window.cancelAnimationFrame(this.frame);
    this.onLevel(0);
    if (this.audio && this.audio.state !== "closed") this.audio.close();
    this.audio = null;
  }
}
