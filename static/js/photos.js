/* The Photos pages: uploads (picker, folder, camera roll, drag and drop; one request per file, so one
   refused file never stops the rest), the gallery's next pages, thumbnails arriving live from the
   indexing job (Hearth's websocket, see hearth.js), the viewer (arrow keys, swipe, Escape), search by
   an example photo, and ordering results by match or date.

   Server data is only put in the page with textContent; tiles come as HTML rendered (and escaped) by
   Django templates. */

import { announce, plural, upload } from "./lib.js";

const doc = document;
const Hearth = window.Hearth;
const PARALLEL = 2;
const SWIPE_PX = 50;

function fragment(html) {
  const holder = doc.createElement("template");
  holder.innerHTML = html;
  return holder.content;
}

/* ------------------------------------------------------------------ the gallery */

const page = doc.querySelector("[data-photos-page]");
const gallery = page && page.querySelector("[data-gallery]");
const pushed = new Map(); // photo id -> its latest pushed state

function monthSection(month) {
  return gallery.querySelector(`.photo-month[data-month="${CSS.escape(month)}"]`);
}

// Add month sections (from the server's HTML) to the gallery, merging a month that is already shown.
function addSections(content) {
  for (const section of Array.from(content.querySelectorAll(".photo-month"))) {
    const existing = monthSection(section.getAttribute("data-month"));
    if (!existing) {
      const later = Array.from(gallery.querySelectorAll(".photo-month"))
        .find((shown) => shown.getAttribute("data-month") < section.getAttribute("data-month"));
      gallery.insertBefore(section, later || null);
      continue;
    }
    const grid = existing.querySelector(".photo-grid");
    for (const tile of Array.from(section.querySelectorAll(".photo-tile"))) {
      const after = Array.from(grid.children).find((shown) => shown.getAttribute("data-sort-at") < tile.getAttribute("data-sort-at"));
      grid.insertBefore(tile, after || null);
    }
  }
  const empty = page.querySelector("[data-photos-empty]");
  if (empty) empty.hidden = !!gallery.querySelector(".photo-tile");
}

function addTile(html, payload) {
  const tile = fragment(html).firstElementChild;
  const shell = fragment(`<section class="photo-month"><h2 class="photo-month__title"></h2><ul class="photo-grid" role="list"></ul></section>`);
  const section = shell.firstElementChild;
  const date = new Date(`${payload.month}-01T12:00:00`);
  section.setAttribute("data-month", payload.month);
  section.setAttribute("aria-label", date.toLocaleDateString(undefined, { month: "long", year: "numeric" }));
  section.querySelector("h2").textContent = section.getAttribute("aria-label");
  section.querySelector("ul").appendChild(tile);
  addSections(shell);
  if (pushed.has(Number(payload.id))) refresh(pushed.get(Number(payload.id)));
}

function loadMore(button) {
  if (button.getAttribute("aria-busy") === "true" || button.hidden) return;
  button.setAttribute("aria-busy", "true");
  const url = `${page.getAttribute("data-more-url")}?after=${encodeURIComponent(button.getAttribute("data-after"))}`;
  fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
    .then((data) => {
      addSections(fragment(data.html));
      button.setAttribute("data-after", data.after || "");
      button.hidden = !data.after;
    })
    .catch(() => Hearth && Hearth.toast({ title: "Could not load older photos", text: "Try again in a moment.", tone: "error" }))
    .finally(() => button.removeAttribute("aria-busy"));
}

if (gallery) {
  const more = page.querySelector("[data-more]");
  more.addEventListener("click", () => loadMore(more));
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((seen) => seen.some((entry) => entry.isIntersecting) && loadMore(more), { rootMargin: "800px" })
      .observe(more);
  }
  if (Hearth) {
    Hearth.on("photos", (message) => {
      for (const photo of (message && message.photos) || []) {
        pushed.set(Number(photo.id), photo);
        refresh(photo);
      }
    });
  }
}

// A thumbnail pushed before the upload's answer put its tile on the page is applied when the tile arrives.
function refresh(photo) {
  const tile = gallery.querySelector(`.photo-tile[data-photo-id="${Number(photo.id)}"]`);
  if (!tile || (!photo.ready && !photo.error) || !tile.classList.contains("photo-tile--pending")) return;
  const link = tile.querySelector("[data-open-photo]");
  tile.classList.remove("photo-tile--pending");
  if (photo.ready) {
    const img = doc.createElement("img");
    img.className = "photo-tile__img";
    img.alt = photo.name;
    img.width = photo.width;
    img.height = photo.height;
    img.src = link.getAttribute("href").replace(/view\/$/, "thumb/");
    link.replaceChildren(img);
  } else {
    tile.classList.add("photo-tile--failed");
    const note = doc.createElement("span");
    note.className = "photo-tile__note";
    note.textContent = photo.error;
    link.replaceChildren(note);
  }
}

/* -------------------------------------------------------------------- uploads */

const form = page && page.querySelector("[data-upload-form]");
const summary = page && page.querySelector("[data-upload-summary]");
const problems = page && page.querySelector("[data-upload-problems]");
const queue = [];
let running = 0;
let batch = { total: 0, added: 0, refused: 0, skipped: 0 };

function report() {
  const parts = [];
  const pending = batch.total - batch.added - batch.refused;
  if (pending > 0) parts.push(`Uploading ${pending} of ${batch.total}`);
  if (batch.added) parts.push(`${plural(batch.added, "photo")} added`);
  if (batch.refused) parts.push(`${batch.refused} not added (see below)`);
  if (batch.skipped) parts.push(`${plural(batch.skipped, "file")} in the folder skipped (not photos)`);
  summary.textContent = parts.length ? `${parts.join("; ")}.` : "";
  summary.hidden = !parts.length;
}

function refuse(message, existing) {
  const item = doc.createElement("li");
  item.className = "photo-upload__problem";
  item.textContent = message;
  if (existing) {
    const link = doc.createElement("a");
    link.href = `${page.getAttribute("data-upload-url").replace(/upload\/$/, "")}${Number(existing.id)}/view/`;
    link.textContent = "Show it";
    item.append(" ", link);
  }
  problems.appendChild(item);
  problems.hidden = false;
}

function uploadOne(file) {
  // The file itself is the body (lib.js upload): the server streams it to disk without parsing a form.
  return upload(page.getAttribute("data-upload-url"), file, { form }).done.then(({ status, data }) => {
    if (status === 201 && data) {
      addTile(data.html, data.photo);
      if (data.notice) refuse(data.notice);
      return true;
    }
    if (status === 0) refuse(`${file.name}: the connection was lost during the upload, so it was not kept. Try again.`);
    else refuse(data?.error || `${file.name} could not be uploaded (the server answered ${status}).`, data?.existing);
    return false;
  });
}

function pump() {
  while (running < PARALLEL && queue.length) {
    running += 1;
    uploadOne(queue.shift()).then((ok) => {
      running -= 1;
      batch[ok ? "added" : "refused"] += 1;
      report();
      pump();
      if (!running && !queue.length) announce(summary.textContent);
    });
  }
}

const PHOTO_NAME = /\.(jpe?g|png|webp|gif|heic|heif)$/i;

function enqueue(files, fromFolder) {
  if (!running && !queue.length) {
    batch = { total: 0, added: 0, refused: 0, skipped: 0 };
    problems.replaceChildren();
    problems.hidden = true;
  }
  const limit = Number(page.getAttribute("data-max-bytes")) || 0;
  for (const file of files) {
    const path = file.webkitRelativePath || file.name;
    if (fromFolder && (/(^|\/)\./.test(path) || !PHOTO_NAME.test(file.name))) {
      batch.skipped += 1;
      continue;
    }
    batch.total += 1;
    if (limit && file.size > limit) {
      refuse(`${file.name} is larger than the ${page.getAttribute("data-max-label")} limit for photos.`);
      batch.refused += 1;
      continue;
    }
    queue.push(file);
  }
  report();
  pump();
}

function readEntry(entry, into) {
  return new Promise((resolve) => {
    if (entry.isFile) {
      entry.file((file) => { into.push(file); resolve(); }, () => resolve());
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const next = () => reader.readEntries((entries) => {
        if (!entries.length) return resolve();
        Promise.all(entries.map((child) => readEntry(child, into))).then(next);
      }, () => resolve());
      next();
    } else {
      resolve();
    }
  });
}

if (form && Hearth) {
  for (const input of Array.from(form.querySelectorAll("input[type='file']"))) {
    input.addEventListener("change", () => {
      const files = Array.from(input.files || []);
      if (files.length) enqueue(files, input.getAttribute("data-pick") === "folder");
      input.value = "";
    });
  }
  form.addEventListener("submit", (event) => event.preventDefault());

  const cover = page.querySelector("[data-dropcover]");
  let depth = 0;
  const hasFiles = (event) => !!event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  doc.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth += 1;
    cover.hidden = false;
  });
  doc.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  doc.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) cover.hidden = true;
  });
  doc.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    cover.hidden = true;
    const entries = Array.from(event.dataTransfer.items || [])
      .map((item) => (item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null))
      .filter(Boolean);
    if (!entries.length) return enqueue(Array.from(event.dataTransfer.files || []), false);
    const loose = [];
    const inFolders = [];
    Promise.all(entries.map((entry) => readEntry(entry, entry.isDirectory ? inFolders : loose))).then(() => {
      if (loose.length) enqueue(loose, false);
      if (inFolders.length) enqueue(inFolders, true);
    });
  });
}

/* ---------------------------------------------------------- search and order */

const example = doc.querySelector("[data-example-input]");
// Plain form posts are limited to HEARTH_REQUEST_MAX_KB (1 MB). CLIP looks at 224 px anyway, so a larger
// example is scaled down here to a 1024 px JPEG first (the original is kept when the browser can't decode it).
async function exampleShrunk(file) {
  if (file.size <= 900 * 1024) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 1024 / Math.max(bitmap.width, bitmap.height));
    const canvas = Object.assign(doc.createElement("canvas"), { width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale) });
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
    return blob ? new File([blob], `${file.name.replace(/\.[^.]*$/, "")}.jpg`, { type: "image/jpeg" }) : file;
  } catch (error) {
    return file;
  }
}

example?.addEventListener("change", async () => {
  if (!example.files.length) return;
  const file = await exampleShrunk(example.files[0]);
  if (file !== example.files[0]) {
    const chosen = new DataTransfer();
    chosen.items.add(file);
    example.files = chosen.files;
  }
  example.form.submit();
});

const results = doc.querySelector("[data-results]");
for (const button of Array.from(doc.querySelectorAll("[data-sort]"))) {
  button.addEventListener("click", (event) => {
    if (!results) return;
    event.preventDefault();
    const order = button.getAttribute("data-sort");
    const key = order === "date" ? "data-sort-at" : "data-similarity";
    const tiles = Array.from(results.children);
    tiles.sort((a, b) => (key === "data-sort-at"
      ? b.getAttribute(key).localeCompare(a.getAttribute(key))
      : Number(b.getAttribute(key)) - Number(a.getAttribute(key))));
    results.replaceChildren(...tiles);
    for (const other of Array.from(doc.querySelectorAll("[data-sort]"))) other.setAttribute("aria-pressed", String(other === button));
    if (window.location.search.includes("q=")) window.history.replaceState(null, "", button.getAttribute("href"));
  });
}

/* ----------------------------------------------------------------- the viewer */

const viewer = doc.querySelector("[data-viewer]");
let current = null;

function tiles() {
  return Array.from(doc.querySelectorAll(".photo-tile:not(.photo-tile--failed)"));
}

function show(tile) {
  if (!tile) return;
  current = tile;
  const link = tile.querySelector("[data-open-photo]");
  const img = viewer.querySelector("[data-viewer-img]");
  img.src = link.getAttribute("href");
  img.alt = tile.getAttribute("data-name");
  viewer.querySelector("[data-viewer-name]").textContent = tile.getAttribute("data-name");
  viewer.querySelector("[data-viewer-date]").textContent = tile.getAttribute("data-taken");
  const score = viewer.querySelector("[data-viewer-score]");
  score.hidden = !tile.hasAttribute("data-similarity");
  score.textContent = score.hidden ? "" : `Similarity ${Number(tile.getAttribute("data-similarity")).toFixed(2)}`;
  const similar = viewer.querySelector("[data-viewer-similar]");
  if (similar) similar.href = link.getAttribute("data-similar");
  viewer.querySelector("[data-viewer-original]").href = link.getAttribute("data-original");
  viewer.querySelector("[data-viewer-delete-form]").action = link.getAttribute("data-delete");
  const all = tiles();
  viewer.querySelector("[data-viewer-prev]").disabled = all.indexOf(tile) <= 0;
  viewer.querySelector("[data-viewer-next]").disabled = all.indexOf(tile) >= all.length - 1;
  if (!viewer.open) viewer.showModal();
}

function step(by) {
  const all = tiles();
  const next = all[all.indexOf(current) + by];
  if (next) show(next);
  else if (by > 0 && page) loadMore(page.querySelector("[data-more]"));
}

if (viewer) {
  doc.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("[data-open-photo]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    show(link.closest(".photo-tile"));
  });
  viewer.querySelector("[data-viewer-prev]").addEventListener("click", () => step(-1));
  viewer.querySelector("[data-viewer-next]").addEventListener("click", () => step(1));
  viewer.querySelector("[data-viewer-close]").addEventListener("click", () => viewer.close());
  viewer.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") step(-1);
    else if (event.key === "ArrowRight") step(1);
  });
  viewer.addEventListener("close", () => current && current.querySelector("[data-open-photo]").focus());
  const stage = viewer.querySelector("[data-viewer-stage]");
  let startX = null;
  stage.addEventListener("pointerdown", (event) => { startX = event.clientX; });
  stage.addEventListener("pointerup", (event) => {
    if (startX === null) return;
    const moved = event.clientX - startX;
    startX = null;
    if (Math.abs(moved) >= SWIPE_PX) step(moved < 0 ? 1 : -1);
  });
  const remove = viewer.querySelector("[data-viewer-delete-form]");
  remove.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!window.confirm(`Delete ${current.getAttribute("data-name")}? It is removed from this machine.`)) return;
    fetch(remove.action, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json", "X-CSRFToken": Hearth.csrfToken(remove) } })
      .then((response) => response.json().then((data) => ({ response, data })))
      .then(({ response, data }) => {
        if (!response.ok) return Hearth.toast({ title: "Not deleted", text: data.error || "Try again.", tone: "error" });
        const gone = current;
        const all = tiles();
        const next = all[all.indexOf(gone) + 1] || all[all.indexOf(gone) - 1];
        const section = gone.closest(".photo-month");
        gone.remove();
        if (section && !section.querySelector(".photo-tile")) section.remove();
        announce(`Deleted ${gone.getAttribute("data-name")}`);
        if (next) show(next);
        else viewer.close();
      });
  });
}
