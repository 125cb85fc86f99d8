/* Registers Hearth's service worker (app shell and offline page; see templates/https/sw.js).

   Browsers allow service workers only in a secure context: over HTTPS, or on this machine's
   localhost. The outcome is left on <html data-sw="registered|failed|unsupported"> and announced
   as a "hearth:sw" event ({detail: {state, error}}) for the Connect a phone page. */
const root = document.documentElement;

function swStateSet(state, error) {
  root.dataset.sw = state;
  document.dispatchEvent(new CustomEvent("hearth:sw", { detail: { state, error: error || "" } }));
}

if (!("serviceWorker" in navigator) || !window.isSecureContext) {
  swStateSet("unsupported");
} else {
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then(() => swStateSet("registered"))
    .catch((error) => swStateSet("failed", `${error.name}: ${error.message}`));
}
