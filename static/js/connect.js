/* Connect a phone: says, on the device itself, what stands between it and the secure address.

   - secure: did this page come over HTTPS (localhost counts as secure for this computer only)?
   - trust:  does the device trust the household certificate? Over plain HTTP, a small file is fetched
             from the HTTPS port: that succeeds only when the certificate is trusted. Over HTTPS, the
             service worker registers only when it is (a page opened through a certificate warning
             cannot register one).
   - media:  navigator.mediaDevices exists only in a secure context.
   - app:    the service worker (installable app, offline page) registered. */
const section = document.querySelector("[data-connect]");

const TEXT = {
  ready: "This device is ready: the microphone, the camera and installing Hearth as an app work here.",
  switchNow: "This device trusts the household certificate, but this page came over plain HTTP. Open the secure address.",
  install: "This device does not trust the household certificate yet. Install it (steps below), then open the secure address.",
  warned: "This page came over HTTPS, but the device does not trust the household certificate: the browser showed a warning. Install the certificate (steps below) and open this page again.",
  localhost: "This computer opens Hearth as localhost, which browsers already treat as secure. For phones, follow the steps below.",
  off: "Hearth serves plain HTTP only (HTTPS is off).",
};

function mark(name, state, value) {
  const item = section.querySelector(`[data-check="${name}"]`);
  item.dataset.state = state;
  item.querySelector("[data-value]").textContent = value;
}

function serviceWorkerOutcome() {
  const known = document.documentElement.dataset.sw;
  if (known) return Promise.resolve({ state: known, error: "" });
  return new Promise((resolve) => {
    document.addEventListener("hearth:sw", (event) => resolve(event.detail), { once: true });
    setTimeout(() => resolve({ state: "failed", error: "timed out" }), 10000);
  });
}

async function probeTrusted(url) {
  if (!url) return false;
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store", credentials: "omit" });
    return true;
  } catch (error) {
    return false;
  }
}

async function check() {
  const https = window.location.protocol === "https:";
  const secureContext = window.isSecureContext;
  mark("secure", https ? "ok" : secureContext ? "partial" : "missing",
    https ? "Yes" : secureContext ? "This computer only (localhost)" : "No: plain HTTP");
  const media = Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  mark("media", media ? "ok" : "missing", media ? "Yes" : "No: needs the secure address");

  const worker = await serviceWorkerOutcome();
  const registered = worker.state === "registered";
  mark("app", registered ? "ok" : "missing", registered ? "Yes" : "No: needs the secure address");

  let trusted;
  if (section.dataset.https !== "1") {
    trusted = null;
  } else if (https) {
    trusted = registered ? true : /ssl|certificate/i.test(worker.error) ? false : null;
  } else {
    trusted = await probeTrusted(section.dataset.probeUrl);
  }
  mark("trust", trusted ? "ok" : trusted === false ? "missing" : "unknown",
    trusted ? "Yes" : trusted === false ? "No" : "Unknown");
  verdict({ https, secureContext, trusted });
}

function verdict({ https, secureContext, trusted }) {
  let text;
  if (section.dataset.https !== "1") text = TEXT.off;
  else if (https && trusted) text = TEXT.ready;
  else if (https) text = TEXT.warned;
  else if (trusted) text = TEXT.switchNow;
  else if (secureContext) text = TEXT.localhost;
  else text = TEXT.install;
  const box = section.querySelector("[data-verdict]");
  box.textContent = text;
  box.dataset.tone = https && trusted ? "ok" : "todo";
  const prefer = section.querySelector("[data-prefer-form]");
  if (prefer && https && trusted && !("chosen" in prefer.dataset)) prefer.hidden = false;
}

if (section) check();
