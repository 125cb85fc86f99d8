/* Hearth's service worker (served from /sw.js so that its scope is the whole site).

   It keeps the app shell, so the installed app opens and says "Hearth is unreachable" when the
   machine or the home network is down:
   - at install: the offline page and the shell's styles, scripts and images;
   - afterwards: files under /static/ (their names carry a content hash), cache first.
   It never stores member data: pages, /api/ answers, uploads, downloads and everything else go to
   the network as if it were not there. A page that cannot be loaded shows the offline page. */
"use strict";

const VERSION = "{{ version }}";
const CACHE = "hearth-shell-" + VERSION;
const OFFLINE_URL = {{ offline_url|safe }};
const SHELL = {{ shell|safe }};
const STATIC_PREFIX = {{ static_prefix|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("hearth-") && name !== CACHE).map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

function isShellFile(url) {
  return url.origin === self.location.origin && url.pathname.startsWith(STATIC_PREFIX);
}

async function staticFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    cache.put(request, response.clone());
  }
  return response;
}

async function pageOrOffline(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const offline = await caches.match(OFFLINE_URL);
    return offline || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate" && url.origin === self.location.origin) {
    event.respondWith(pageOrOffline(request));
  } else if (isShellFile(url)) {
    event.respondWith(staticFirst(request));
  }
  // Everything else (API answers, images of chats, downloads, websockets) is not touched.
});
