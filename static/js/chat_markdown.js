/* How a message is shown: Markdown, [n] citations, the list of sources, photos, and copying text.

   Model output is untrusted. It is rendered by markdown-it (vendored, loaded before this module) with
   raw HTML off, then sanitised by DOMPurify with a short allow-list; everything else from the server
   goes in with textContent. */
import { $all, toast } from "./lib.js";

const doc = document;

const PURIFY_CONFIG = {
  ALLOWED_TAGS: [
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span", "sup", "sub",
  ],
  ALLOWED_ATTR: ["href", "title", "class", "start"],
  ALLOW_DATA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  RETURN_DOM_FRAGMENT: true,
};

const purify = window.DOMPurify?.isSupported ? window.DOMPurify : null;
const md = typeof window.markdownit === "function" ? window.markdownit({ html: false, linkify: false, breaks: true, typographer: false }) : null;

if (md) {
  // Images in model output are never loaded: show their description instead.
  md.renderer.rules.image = (tokens, index) => `<span class="md-image">[${md.utils.escapeHtml(tokens[index].content || "image")}]</span>`;
}
purify?.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName !== "A") return;
  if (node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  } else {
    node.removeAttribute("href");
  }
});

/** An <svg class="icon"> using one of the chat page's own symbols (#chat-i-…). */
export function svgIcon(id) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = doc.createElementNS(ns, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = doc.createElementNS(ns, "use");
  use.setAttribute("href", `#${id}`);
  svg.append(use);
  return svg;
}

function element(tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function codeBlocks(fragment) {
  for (const pre of $all("pre", fragment)) {
    const code = pre.querySelector("code");
    const match = code && /(?:^|\s)language-([\w+#.-]{1,30})/.exec(code.className || "");
    const box = element("div", "code");
    const bar = element("div", "code__bar");
    const copy = element("button", "msg__btn code__copy");
    copy.type = "button";
    copy.setAttribute("data-copy-code", "");
    copy.append(svgIcon("chat-i-copy"), element("span", "", "Copy code"));
    bar.append(element("span", "code__lang", match ? match[1] : "code"), copy);
    pre.replaceWith(box);
    box.append(bar, pre);
  }
}

/** Render `text` as sanitised Markdown into `target`, its [n] linked to `sources`. */
export function renderMarkdown(target, text, sources) {
  if (!md || !purify) {
    target.textContent = text; // the libraries did not load: plain text is always safe
    linkCitations(target, sources);
    return;
  }
  const fragment = purify.sanitize(md.render(text), PURIFY_CONFIG);
  codeBlocks(fragment);
  linkCitations(fragment, sources);
  target.replaceChildren(fragment);
}

/* ------------------------------------------------------------- citations */

// Where a source opens: its document at its page, or its voice note at its second. Built from numbers
// only, never from model text.
function sourceHref(source) {
  if (source.kind === "voice") {
    const note = Number(source.note_id);
    const second = Math.floor(Number(source.start));
    if (!Number.isInteger(note) || note <= 0 || !(second >= 0)) return "";
    return `/voice/${note}/?t=${second}`;
  }
  const id = Number(source.document_id);
  const page = Number(source.page);
  if (!Number.isInteger(id) || !Number.isInteger(page) || id <= 0 || page <= 0) return "";
  // The document itself at that page (document_viewer.js), its passage found by number, or for answers
  // saved before passages were numbered by its first words. Same tab: Back returns to the chat.
  const passage = Number(source.passage);
  const words = String(source.text || "").split(/\s+/).filter(Boolean).slice(0, 12).join(" ");
  const find = Number.isInteger(passage) && passage > 0 ? { passage: String(passage) } : words ? { q: words } : {};
  return `/documents/${id}/view/?${new URLSearchParams({ page: String(page), ...find })}`;
}

// The score is the passage's relevance: how likely it answers the question (not its rank).
function sourceLabel(source) {
  const relevance = `relevance ${Math.round((Number(source.score) || 0) * 100)}%`;
  if (source.kind === "voice") return `[${Number(source.n)}] ${String(source.note || "")}, ${String(source.time_label || "")} — ${relevance}`;
  return `[${Number(source.n)}] ${String(source.document || "")}, ${source.page_label || "page"} ${Number(source.page)} — ${relevance}`;
}

function citationParts(text, byNumber) {
  const out = doc.createDocumentFragment();
  for (const part of text.split(/(\[\d{1,2}\])/)) {
    const match = /^\[(\d{1,2})\]$/.exec(part);
    const source = match && byNumber.get(match[1]);
    if (!source) {
      if (part) out.append(part);
      continue;
    }
    const link = element("a", "msg__cite", part);
    link.href = sourceHref(source);
    link.title = sourceLabel(source);
    out.append(link);
  }
  return out;
}

// Turns "[n]" in the answer's text nodes into links to source n. Runs after sanitising, and only
// ever creates elements and text nodes: the model's text never reaches innerHTML here.
function linkCitations(root, sources) {
  const byNumber = new Map((Array.isArray(sources) ? sources : []).filter((s) => s && sourceHref(s)).map((s) => [String(s.n), s]));
  if (!byNumber.size) return;
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentNode?.closest?.("a, code, pre")) continue;
    if (/\[\d{1,2}\]/.test(node.nodeValue)) nodes.push(node);
  }
  for (const node of nodes) node.replaceWith(citationParts(node.nodeValue, byNumber));
}

/** Fill an answer's Sources box (each source a <details> with its passage and a link to its page). */
export function renderSources(box, list, messageId, sources) {
  const key = JSON.stringify(sources);
  if (box.getAttribute("data-key") === key) return;
  box.setAttribute("data-key", key);
  // The final message may bring the sources again: a passage the member opened stays open.
  const opened = new Set([...list.querySelectorAll("details[open]")].map((details) => details.parentElement.id));
  list.replaceChildren();
  for (const source of sources) {
    const href = sourceHref(source);
    if (!href) continue;
    const item = element("li", "msg__source");
    item.id = `msg-${Number(messageId)}-source-${Number(source.n)}`;
    const details = element("details");
    const where = source.kind === "voice" ? `Play from ${String(source.time_label || "")}` : `Open ${source.page_label || "page"} ${Number(source.page)}`;
    const link = element("a", "msg__source-link", where);
    link.href = href;
    details.append(element("summary", "", sourceLabel(source)), element("blockquote", "msg__source-text", String(source.text || "")), link);
    details.open = opened.has(item.id);
    item.append(details);
    list.append(item);
  }
  box.hidden = !list.children.length;
}

/** The photos sent with a message (only Hearth's own /chat/images/<id>/ addresses are shown). */
export function renderImages(list, images) {
  const urls = (Array.isArray(images) ? images : []).filter((url) => typeof url === "string" && /^\/chat\/images\/\d+\/$/.test(url));
  const key = urls.join(" ");
  if (list.getAttribute("data-key") === key) return;
  list.setAttribute("data-key", key);
  list.replaceChildren(
    ...urls.map((url) => {
      const item = element("li");
      const link = Object.assign(element("a"), { href: url, target: "_blank", rel: "noopener" });
      link.append(Object.assign(element("img"), { src: url, alt: "Attached photo", loading: "lazy" }));
      item.append(link);
      return item;
    })
  );
  list.hidden = !urls.length;
}

/* ------------------------------------------------------------- clipboard */

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // Plain http on the LAN has no async clipboard: the old way still works there.
  const area = element("textarea", "sr-only");
  area.value = text;
  area.setAttribute("readonly", "");
  doc.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = doc.execCommand("copy");
  } catch (error) {
    ok = false;
  }
  area.remove();
  return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

/** Copy `text`, and say "Copied" on the button for a moment. */
export async function copyWithFeedback(button, text) {
  const label = button.querySelector("span");
  const original = button.getAttribute("data-label") || label?.textContent || "";
  button.setAttribute("data-label", original);
  try {
    await copyText(text);
  } catch (error) {
    toast({ tone: "error", title: "Couldn't copy", text: "Your browser refused. Select the text and copy it instead." });
    return;
  }
  if (label) label.textContent = "Copied";
  button.classList.add("msg__btn--done");
  window.setTimeout(() => {
    if (label) label.textContent = original;
    button.classList.remove("msg__btn--done");
  }, 1500);
}
