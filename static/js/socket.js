/* The page's one events websocket (/ws/events/, see assistant/consumers.py). Page scripts import it
   through lib.js:

     on(type, handler)   messages by their "type" ("job", "document", "chat.token", "error", ...) and the
                         connection events "socket:open" ({reconnect}) and "socket:close" ({code});
                         returns a function that unsubscribes.
     send(object)        one JSON message; false while the socket is not open (re-sync on "socket:open").
     connected()         true while the socket is open.
     connect()           called once by hearth.js; reconnects with backoff and jitter by itself. */

const doc = document;
const handlers = new Map();
const state = { socket: null, everOpened: false, attempt: 0, retryTimer: 0, indicatorTimer: 0, stopped: false, leaving: false };

export function on(type, handler) {
  if (typeof handler !== "function") return () => {};
  if (!handlers.has(type)) handlers.set(type, []);
  handlers.get(type).push(handler);
  return () => off(type, handler);
}

export function off(type, handler) {
  const list = handlers.get(type) || [];
  const index = list.indexOf(handler);
  if (index >= 0) list.splice(index, 1);
}

function emit(type, message) {
  for (const handler of (handlers.get(type) || []).slice()) {
    try {
      handler(message);
    } catch (error) {
      console.error(error);
    }
  }
}

export const connected = () => !!state.socket && state.socket.readyState === WebSocket.OPEN;

export function send(message) {
  if (!connected()) return false;
  state.socket.send(JSON.stringify(message));
  return true;
}

function goToLogin() {
  if (state.leaving) return;
  state.leaving = true;
  state.stopped = true;
  const here = window.location.pathname + window.location.search + window.location.hash;
  const login = doc.body.getAttribute("data-login-url") || "/login/";
  window.location.assign(`${login}?next=${encodeURIComponent(here)}`);
}

function showIndicator(down) {
  clearTimeout(state.indicatorTimer);
  const indicator = doc.querySelector("[data-conn]");
  if (!indicator) return;
  if (!down) {
    indicator.hidden = true;
    return;
  }
  // A blip shorter than this never shows, so page loads and quick reconnects stay quiet.
  state.indicatorTimer = window.setTimeout(() => {
    if (!connected()) indicator.hidden = false;
  }, 1200);
}

/* A refused handshake reaches the browser as code 1006, not 4401: ask the server whether the
   session is still good, and go to the login page if it is not. */
async function checkSession() {
  try {
    const response = await window.fetch(window.location.href, { method: "HEAD", redirect: "manual", cache: "no-store", credentials: "same-origin" });
    if (response.type === "opaqueredirect" || response.status === 401) goToLogin();
  } catch (error) {
    /* server unreachable: keep retrying */
  }
}

function scheduleReconnect() {
  clearTimeout(state.retryTimer);
  const ceiling = Math.min(30000, 1000 * 2 ** state.attempt);
  state.attempt += 1;
  state.retryTimer = window.setTimeout(open, ceiling / 2 + Math.random() * (ceiling / 2)); // backoff with jitter
}

function listen(current) {
  let opened = false;
  current.addEventListener("open", () => {
    opened = true;
    const reconnect = state.everOpened;
    state.everOpened = true;
    state.attempt = 0;
    showIndicator(false);
    emit("socket:open", { reconnect });
  });
  current.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (message && typeof message.type === "string" && !message.type.startsWith("socket:")) emit(message.type, message);
  });
  current.addEventListener("close", (event) => {
    if (state.socket === current) state.socket = null;
    if (event.code === 4401) return goToLogin();
    if (state.stopped) return;
    emit("socket:close", { code: event.code });
    showIndicator(true);
    if (!opened) checkSession();
    scheduleReconnect();
  });
}

function open() {
  clearTimeout(state.retryTimer);
  state.retryTimer = 0;
  const path = doc.body.getAttribute("data-ws-url");
  if (!path || state.stopped) return;
  if (state.socket && state.socket.readyState <= WebSocket.OPEN) return; // connecting or open
  const url = new URL(path, window.location.href);
  url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  try {
    state.socket = new WebSocket(url.toString());
  } catch (error) {
    scheduleReconnect();
    return;
  }
  listen(state.socket);
}

function reconnectNow() {
  if (state.stopped) return;
  state.attempt = 0;
  open();
}

let started = false;

export function connect() {
  if (started || !doc.body.hasAttribute("data-ws-url") || !("WebSocket" in window)) return;
  started = true;
  window.addEventListener("online", reconnectNow);
  doc.addEventListener("visibilitychange", () => {
    if (doc.visibilityState === "visible" && !state.socket) reconnectNow();
  });
  window.addEventListener("pagehide", () => {
    state.stopped = true;
    clearTimeout(state.retryTimer);
    clearTimeout(state.indicatorTimer);
    state.socket?.close(1000);
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    state.stopped = false;
    state.everOpened = true; // back from the history cache: re-sync like a reconnect
    reconnectNow();
  });
  doc.querySelector("[data-conn-retry]")?.addEventListener("click", reconnectNow);
  open();
}
