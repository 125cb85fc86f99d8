/* The document viewer (templates/documents/viewer.html), where a citation opens.

   A PDF is drawn by pdf.js (static/vendor/pdfjs, loaded only on this page; its worker comes from the
   same static files, so the CSP's 'self' covers it), one page at a time at the width of the screen,
   with its text layer on top; on the cited page the passage's words are found in that text layer and
   highlighted. Other kinds come from the server as escaped text with the passage already marked: this
   only scrolls to it. Previous / Next, the page number and the arrow keys move between pages. */
import { $, announce, setText } from "./lib.js";

const root = $("[data-viewer]");
const ANCHOR_WORDS = 12; // the passage is anchored at the longest run of page words matching from one of its first 12
const MIN_RUN = 3; // fewer matching words in a row than this is chance, not the passage
const RESYNC = 4; // words skipped on either side to carry on past a hyphenated or reordered word
const MAX_FIT = 1.6; // a page fitted to a wide window is drawn no larger than this
const WORD = /[\p{L}\p{N}]+/gu;

const bar = {
  form: $("[data-viewer-nav]"),
  input: $("[data-viewer-input]"),
  prev: $("[data-viewer-prev]"),
  next: $("[data-viewer-next]"),
};
let total = Number(root?.dataset.pages) || 1; // the PDF's own count replaces it once it is open
const citedPage = Number(root?.dataset.citedPage) || 1;
const label = root?.dataset.label || "page";

function passageText() {
  try {
    return String(JSON.parse($("#viewer-passage")?.textContent || '""') || "");
  } catch (error) {
    return "";
  }
}

const words = (text) => text.normalize("NFKC").toLowerCase().replace(/[\u00ad\ufffe]/g, "").match(WORD) || [];
const clamp = (number) => Math.min(Math.max(Math.round(Number(number)) || 1, 1), total);

/* ------------------------------------------------------------- finding the passage in a text layer */

// The page's words in reading order, each with the index of the text span it is in.
function pageWords(spans) {
  const out = [];
  spans.forEach((span, index) => {
    for (const word of words(span.textContent || "")) out.push({ word, index });
  });
  return out;
}

// The longest run of page words equal to consecutive passage words starting at one of its first words.
function anchor(page, wanted) {
  let best = { length: 0, at: -1, from: 0 };
  const starts = Math.min(ANCHOR_WORDS, wanted.length);
  for (let at = 0; at < page.length; at += 1) {
    for (let from = 0; from < starts; from += 1) {
      let length = 0;
      while (at + length < page.length && from + length < wanted.length && page[at + length].word === wanted[from + length]) length += 1;
      if (length > best.length) best = { length, at, from };
    }
  }
  return best;
}

// Past a word that differs (a hyphenated line end, a running header), where the two agree again.
// Fewest words skipped first; two words in a row must agree again.
function resync(page, at, wanted, from) {
  for (let skip = 1; skip <= 2 * RESYNC; skip += 1) {
    for (let onPage = Math.max(0, skip - RESYNC); onPage <= Math.min(skip, RESYNC); onPage += 1) {
      const [p, w] = [at + onPage, from + skip - onPage];
      if (p + 1 < page.length && w + 1 < wanted.length && page[p].word === wanted[w] && page[p + 1].word === wanted[w + 1]) return [p, w];
    }
  }
  return null;
}

/** The indexes of the spans that hold the passage: from its anchor, forwards to its end and back to its start. */
export function passageSpans(spans, passage) {
  const page = pageWords(spans);
  const wanted = words(passage);
  const best = anchor(page, wanted);
  const hits = new Set();
  if (best.length < Math.min(MIN_RUN, wanted.length) || !best.length) return hits;
  let [at, from] = [best.at, best.from];
  while (at < page.length && from < wanted.length) {
    if (page[at].word === wanted[from]) {
      hits.add(page[at].index);
      [at, from] = [at + 1, from + 1];
      continue;
    }
    const again = resync(page, at, wanted, from);
    if (!again) break;
    [at, from] = again;
  }
  for (let [p, w] = [best.at - 1, best.from - 1]; p >= 0 && w >= 0 && page[p].word === wanted[w]; p -= 1, w -= 1) hits.add(page[p].index);
  return hits;
}

/* ------------------------------------------------------------- the bar */

function query(page) {
  // The cited page keeps its passage in the address, so a reload highlights it again.
  return page === citedPage ? window.location.search.replace(/([?&]page=)\d+/, `$1${page}`) : `?page=${page}`;
}

function barShow(page) {
  if (bar.input) bar.input.value = String(page);
  for (const [link, target] of [[bar.prev, page - 1], [bar.next, page + 1]]) {
    if (!link) continue;
    link.hidden = target < 1 || target > total;
    link.setAttribute("href", `?page=${target}`);
  }
}

function barHook(go) {
  bar.form?.addEventListener("submit", (event) => {
    event.preventDefault();
    go(clamp(bar.input?.value));
  });
  bar.prev?.addEventListener("click", (event) => {
    event.preventDefault();
    go(clamp(Number(bar.input?.value) - 1));
  });
  bar.next?.addEventListener("click", (event) => {
    event.preventDefault();
    go(clamp(Number(bar.input?.value) + 1));
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.target instanceof Element && event.target.closest("input, textarea, select, [contenteditable]")) return;
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (!step) return;
    const target = Number(bar.input?.value) + step;
    if (target < 1 || target > total) return;
    event.preventDefault();
    go(target);
  });
}

/* ------------------------------------------------------------- PDF */

function pdfProblem(error) {
  const name = error?.name || "";
  const status = Number(error?.status) || 0;
  if (status === 404 || name === "MissingPDFException") return "The file is missing from Hearth's data folder.";
  if (name === "PasswordException") return "It is protected by a password.";
  if (name === "InvalidPDFException") return `The file is damaged or is not a PDF (pdf.js says: ${String(error.message).replace(/\.$/, "")}).`;
  return `pdf.js could not draw it (${error?.message || error}).`;
}

function pdfViewer(pdfjs, pdf) {
  const stage = $("[data-viewer-stage]");
  const sheet = $("[data-viewer-sheet]");
  const canvas = $("[data-viewer-canvas]");
  const textBox = $("[data-viewer-text]");
  const status = $("[data-viewer-status]");
  const passage = passageText();
  let [current, zoom, drawing, scrolled, width] = [citedPage, 1, 0, false, 0];
  let task = null;
  let layer = null;

  async function draw(number) {
    const mine = (drawing += 1);
    current = clamp(number);
    barShow(current);
    const page = await pdf.getPage(current);
    if (mine !== drawing) return;
    width = stage.clientWidth;
    const base = page.getViewport({ scale: 1 });
    const scale = Math.min(width / base.width, MAX_FIT) * zoom;
    const viewport = page.getViewport({ scale });
    const ratio = window.devicePixelRatio || 1;
    task?.cancel();
    layer?.cancel();
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    for (const element of [sheet, canvas]) {
      element.style.width = `${Math.floor(viewport.width)}px`;
      element.style.height = `${Math.floor(viewport.height)}px`;
    }
    sheet.style.setProperty("--scale-factor", String(scale));
    sheet.style.setProperty("--total-scale-factor", String(scale));
    sheet.hidden = false;
    sheet.setAttribute("data-page", String(current));
    task = page.render({ canvasContext: canvas.getContext("2d"), viewport, transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0] });
    try {
      await task.promise;
    } catch (error) {
      if (error?.name === "RenderingCancelledException") return;
      throw error;
    }
    if (mine !== drawing) return;
    textBox.replaceChildren();
    layer = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: textBox, viewport });
    await layer.render();
    if (mine !== drawing) return;
    highlight(layer.textDivs);
    sheet.setAttribute("data-drawn", String(current));
    window.history.replaceState(null, "", query(current));
  }

  function highlight(spans) {
    if (current !== citedPage || !passage) {
      setText(status, "");
      return;
    }
    const hits = passageSpans(spans, passage);
    spans.forEach((span, index) => span.classList.toggle("viewer-hit", hits.has(index)));
    const first = spans.find((span, index) => hits.has(index));
    setText(status, first ? "" : `The cited words were not found in the text of this ${label} (a scanned page has none); the passage is on this ${label}.`);
    if (first && !scrolled) first.scrollIntoView({ block: "center" });
    scrolled = true;
  }

  function go(number) {
    draw(number).then(() => announce(`${label} ${current} of ${total}`), failed);
  }

  barHook(go);
  for (const button of document.querySelectorAll("[data-viewer-zoom]")) {
    button.addEventListener("click", () => {
      const how = button.getAttribute("data-viewer-zoom");
      zoom = how === "fit" ? 1 : Math.min(Math.max(zoom * (how === "in" ? 1.25 : 0.8), 0.5), 4);
      go(current);
    });
  }
  let resizing = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(() => stage.clientWidth !== width && go(current), 200);
  });
  return draw(citedPage);
}

function failed(error) {
  setText($("[data-viewer-status]"), "");
  if (bar.form) bar.form.hidden = true; // nothing to page through or zoom
  $("[data-viewer-sheet]")?.setAttribute("hidden", "");
  setText($("[data-viewer-error-text]"), pdfProblem(error));
  $("[data-viewer-error]").hidden = false;
}

async function openPdf() {
  try {
    const pdfjs = await import(root.dataset.pdfjs);
    pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.pdfjsWorker;
    const pdf = await pdfjs.getDocument({
      url: root.dataset.fileUrl,
      isEvalSupported: false,
      standardFontDataUrl: root.dataset.pdfjsFonts,
      useWasm: false,
      enableXfa: false,
    }).promise;
    total = pdf.numPages;
    setText($("[data-viewer-total]"), String(total));
    bar.input?.setAttribute("max", String(total));
    await pdfViewer(pdfjs, pdf);
  } catch (error) {
    failed(error);
  }
}

/* ------------------------------------------------------------- other kinds */

function openText() {
  barHook((page) => {
    window.location.assign(`?page=${page}`);
  });
  $("#cited")?.scrollIntoView({ block: "center" });
}

// Opened from a conversation in the same tab (an installed app on a phone has no Back button): a way back.
function chatLink() {
  const link = $("[data-viewer-chat]");
  let from = null;
  try {
    from = document.referrer ? new URL(document.referrer) : null;
  } catch (error) {
    from = null;
  }
  if (!link || !from || from.origin !== window.location.origin || !/^\/chat\/(?:\d+\/)?$/.test(from.pathname)) return;
  link.setAttribute("href", from.pathname);
  link.hidden = false;
}

chatLink();
if (root?.dataset.fileUrl) openPdf();
else if (root) openText();
