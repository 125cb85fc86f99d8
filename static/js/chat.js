/* The Chat page: renders the conversation from the #chat-history JSON, streams answers from the
   events websocket, and sends, stops and regenerates through it (see assistant/consumers.py).

   Model output is untrusted. It is rendered by markdown-it with raw HTML off, then sanitised by
   DOMPurify with a short allow-list; everything else from the server goes in with textContent.

   Token events carry `offset`, the UTF-16 length of the answer before their text (a JavaScript
   string's .length). A token is appended only where it continues the text; one that skips ahead
   is kept aside and the message is re-read with `message.get` until the two can be stitched. */
(function () {
  "use strict";

  var doc = document;
  var root = doc.querySelector("[data-chat]");
  var Hearth = window.Hearth;
  if (!root || !Hearth) return;

  var ACTIVE = { queued: true, streaming: true };
  var FINAL = { complete: true, incomplete: true, failed: true };
  var RENDER_EVERY_MS = 50;
  var RESYNC_EVERY_MS = 400;
  var MAX_ATTACHMENTS = 8;

  var conversationId = Number(root.getAttribute("data-conversation"));
  var hasModel = root.getAttribute("data-has-model") === "1";
  var uploadUrl = root.getAttribute("data-upload-url");
  var userInitial = root.getAttribute("data-user-initial") || "";
  var logoUrl = root.getAttribute("data-logo") || "";

  var scroller = doc.querySelector("[data-chat-scroll]");
  var log = doc.querySelector("[data-chat-log]");
  var emptyState = doc.querySelector("[data-chat-empty]");
  var jumpButton = doc.querySelector("[data-jump]");
  var titleElement = doc.querySelector("[data-chat-title]");
  var messageTemplate = doc.getElementById("chat-message-template");
  var attachmentTemplate = doc.getElementById("chat-attachment-template");

  var composer = doc.querySelector("[data-composer]");
  var textarea = doc.querySelector("[data-composer-text]");
  var sendButton = doc.querySelector("[data-send]");
  var stopButton = doc.querySelector("[data-stop]");
  var attachButton = doc.querySelector("[data-attach]");
  var cameraButton = doc.querySelector("[data-camera]");
  var fileInput = doc.querySelector("[data-file-input]");
  var cameraInput = doc.querySelector("[data-camera-input]");
  var attachmentList = doc.querySelector("[data-attachments]");
  var errorBox = doc.querySelector("[data-composer-error]");
  var errorText = doc.querySelector("[data-composer-error-text]");
  var dropZone = doc.querySelector("[data-drop]");

  function $all(selector, scope) {
    return Array.prototype.slice.call((scope || doc).querySelectorAll(selector));
  }

  function svgIcon(id) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = doc.createElementNS(ns, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    var use = doc.createElementNS(ns, "use");
    use.setAttribute("href", "#" + id);
    svg.appendChild(use);
    return svg;
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  function number(value) {
    return Number(value || 0).toLocaleString();
  }

  /* ------------------------------------------------------------- markdown */

  var md = null;
  var purify = window.DOMPurify && window.DOMPurify.isSupported ? window.DOMPurify : null;

  if (typeof window.markdownit === "function") {
    md = window.markdownit({ html: false, linkify: false, breaks: true, typographer: false });
    // Images in model output are never loaded: show their description instead.
    md.renderer.rules.image = function (tokens, index) {
      var alt = tokens[index].content || "image";
      return '<span class="md-image">[' + md.utils.escapeHtml(alt) + "]</span>";
    };
  }

  var PURIFY_CONFIG = {
    ALLOWED_TAGS: [
      "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
      "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span", "sup", "sub",
    ],
    ALLOWED_ATTR: ["href", "title", "class", "start"],
    ALLOW_DATA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    RETURN_DOM_FRAGMENT: true,
  };

  if (purify) {
    purify.addHook("afterSanitizeAttributes", function (node) {
      if (node.nodeName === "A") {
        if (node.getAttribute("href")) {
          node.setAttribute("target", "_blank");
          node.setAttribute("rel", "noopener noreferrer");
        } else {
          node.removeAttribute("href");
        }
      }
    });
  }

  function codeBlocks(fragment) {
    $all("pre", fragment).forEach(function (pre) {
      var code = pre.querySelector("code");
      var match = code && /(?:^|\s)language-([\w+#.-]{1,30})/.exec(code.className || "");
      var box = doc.createElement("div");
      box.className = "code";
      var bar = doc.createElement("div");
      bar.className = "code__bar";
      var label = doc.createElement("span");
      label.className = "code__lang";
      label.textContent = match ? match[1] : "code";
      var copy = doc.createElement("button");
      copy.type = "button";
      copy.className = "msg__btn code__copy";
      copy.setAttribute("data-copy-code", "");
      copy.appendChild(svgIcon("chat-i-copy"));
      var copyLabel = doc.createElement("span");
      copyLabel.textContent = "Copy code";
      copy.appendChild(copyLabel);
      bar.appendChild(label);
      bar.appendChild(copy);
      pre.parentNode.replaceChild(box, pre);
      box.appendChild(bar);
      box.appendChild(pre);
    });
  }

  function renderMarkdown(target, text, sources) {
    if (!md || !purify) {
      target.textContent = text; // the libraries did not load: plain text is always safe
      linkCitations(target, sources);
      return;
    }
    var fragment = purify.sanitize(md.render(text), PURIFY_CONFIG);
    codeBlocks(fragment);
    linkCitations(fragment, sources);
    target.replaceChildren(fragment);
  }

  /* ------------------------------------------------------------- citations */

  // Where a source opens: its document, at its page. Built from numbers only, never from model text.
  function sourceHref(source) {
    if (source.kind === "voice") {
      var note = Number(source.note_id);
      var second = Math.floor(Number(source.start));
      if (!(note > 0) || note % 1 || !(second >= 0)) return "";
      return "/voice/" + note + "/?t=" + second;
    }
    var id = Number(source.document_id);
    var page = Number(source.page);
    if (!(id > 0) || !(page > 0) || id % 1 || page % 1) return "";
    return "/documents/" + id + "/?page=" + page + "#p" + page;
  }

  function sourcesByNumber(sources) {
    var byNumber = {};
    (Array.isArray(sources) ? sources : []).forEach(function (source) {
      if (source && sourceHref(source)) byNumber[String(source.n)] = source;
    });
    return byNumber;
  }

  // Turns "[n]" in the answer's text nodes into links to source n. Runs after sanitising, and only
  // ever creates elements and text nodes: the model's text never reaches innerHTML here.
  function linkCitations(root, sources) {
    var byNumber = sourcesByNumber(sources);
    if (!Object.keys(byNumber).length) return;
    var walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) {
      var node = walker.currentNode;
      if (node.parentNode && node.parentNode.closest && node.parentNode.closest("a, code, pre")) continue;
      if (/\[\d{1,2}\]/.test(node.nodeValue)) nodes.push(node);
    }
    nodes.forEach(function (node) {
      var parts = node.nodeValue.split(/(\[\d{1,2}\])/);
      var out = doc.createDocumentFragment();
      parts.forEach(function (part) {
        var match = /^\[(\d{1,2})\]$/.exec(part);
        var source = match && byNumber[match[1]];
        if (!source) {
          if (part) out.appendChild(doc.createTextNode(part));
          return;
        }
        var link = doc.createElement("a");
        link.className = "msg__cite";
        link.href = sourceHref(source);
        link.textContent = part;
        link.title = sourceLabel(source);
        out.appendChild(link);
      });
      node.parentNode.replaceChild(out, node);
    });
  }

  function sourceLabel(source) {
    var percent = Math.round((Number(source.score) || 0) * 100);
    if (source.kind === "voice") {
      return "[" + Number(source.n) + "] " + String(source.note || "") + ", " + String(source.time_label || "") + " — " + percent + "%";
    }
    var where = (source.page_label || "page") + " " + Number(source.page);
    // The score is the passage's relevance: how likely it answers the question (not its rank).
    return "[" + Number(source.n) + "] " + String(source.document || "") + ", " + where + " — relevance " + percent + "%";
  }

  function renderSources(entry) {
    var sources = Array.isArray(entry.data.sources) ? entry.data.sources : [];
    var box = field(entry, "sources");
    var key = JSON.stringify(sources);
    if (box.getAttribute("data-key") === key) return;
    box.setAttribute("data-key", key);
    var list = field(entry, "sources-list");
    list.replaceChildren();
    sources.forEach(function (source) {
      var href = sourceHref(source);
      if (!href) return;
      var item = doc.createElement("li");
      item.className = "msg__source";
      item.id = "msg-" + Number(entry.data.id) + "-source-" + Number(source.n);
      var details = doc.createElement("details");
      var summary = doc.createElement("summary");
      summary.textContent = sourceLabel(source);
      var passage = doc.createElement("blockquote");
      passage.className = "msg__source-text";
      passage.textContent = String(source.text || "");
      var link = doc.createElement("a");
      link.className = "msg__source-link";
      link.href = href;
      link.textContent =
        source.kind === "voice"
          ? "Play from " + String(source.time_label || "")
          : "Open " + (source.page_label || "page") + " " + Number(source.page);
      details.appendChild(summary);
      details.appendChild(passage);
      details.appendChild(link);
      item.appendChild(details);
      list.appendChild(item);
    });
    box.hidden = !list.children.length;
  }

  /* ------------------------------------------------------------- clipboard */

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on the LAN has no async clipboard: the old way still works there.
    return new Promise(function (resolve, reject) {
      var area = doc.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "sr-only";
      doc.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = doc.execCommand("copy");
      } catch (error) {
        ok = false;
      }
      area.remove();
      if (ok) resolve();
      else reject(new Error("copy refused"));
    });
  }

  function copyFeedback(button, text) {
    var label = button.querySelector("span");
    var original = button.getAttribute("data-label") || (label ? label.textContent : "");
    button.setAttribute("data-label", original);
    copyText(text).then(
      function () {
        if (label) label.textContent = "Copied";
        button.classList.add("msg__btn--done");
        window.setTimeout(function () {
          if (label) label.textContent = original;
          button.classList.remove("msg__btn--done");
        }, 1500);
      },
      function () {
        Hearth.toast({ tone: "error", title: "Couldn't copy", text: "Your browser refused. Select the text and copy it instead." });
      }
    );
  }

  /* -------------------------------------------------------------- messages */

  var entries = new Map(); // id -> {data, el, fields, rendered}
  var pendingTokens = {}; // id -> [{offset, text}] that arrived ahead of what we have
  var resyncTimers = {};

  function validPayload(payload) {
    return (
      payload &&
      typeof payload === "object" &&
      Number.isInteger(payload.id) &&
      typeof payload.content === "string" &&
      (payload.role === "user" || payload.role === "assistant")
    );
  }

  function field(entry, name) {
    return entry.fields[name];
  }

  function createEntry(payload) {
    var el = messageTemplate.content.firstElementChild.cloneNode(true);
    el.id = "m" + payload.id;
    el.setAttribute("data-message-id", String(payload.id));
    el.classList.add(payload.role === "user" ? "msg--user" : "msg--assistant");
    var fields = {};
    $all("[data-field]", el).forEach(function (node) {
      fields[node.getAttribute("data-field")] = node;
    });
    var avatar = el.querySelector(".msg__avatar");
    if (payload.role === "assistant" && logoUrl) {
      var logo = doc.createElement("img");
      logo.src = logoUrl;
      logo.alt = "";
      avatar.appendChild(logo);
    } else {
      avatar.textContent = userInitial;
    }
    fields.who.textContent = payload.role === "user" ? "You" : "Hearth";
    var entry = { data: null, el: el, fields: fields, rendered: null, announced: false };
    // Keep the log in message order, whatever order the events arrive in.
    var before = null;
    entries.forEach(function (other, id) {
      if (id > payload.id && (!before || id < Number(before.getAttribute("data-message-id")))) before = other.el;
    });
    log.insertBefore(el, before);
    entries.set(payload.id, entry);
    return entry;
  }

  function mergedContent(previous, payload) {
    // The database is written every half second while an answer streams, so a re-read can be
    // behind the tokens already shown: keep the longer text when the shorter one is its start.
    if (!previous) return payload.content;
    var current = previous.content;
    if (ACTIVE[payload.state] && ACTIVE[previous.state] && current.length > payload.content.length && current.indexOf(payload.content) === 0) {
      return current;
    }
    return payload.content;
  }

  function applyPayload(payload, options) {
    if (!validPayload(payload) || payload.conversation !== conversationId) return null;
    var entry = entries.get(payload.id);
    var previous = entry ? entry.data : null;
    if (previous && FINAL[previous.state] && payload.state === "streaming" && previous.content.indexOf(payload.content) === 0) {
      return entry; // an older snapshot than the final text we already have
    }
    if (!entry) entry = createEntry(payload);
    var data = Object.assign({}, payload, { content: mergedContent(previous, payload) });
    entry.data = data;
    if (FINAL[data.state]) {
      delete pendingTokens[data.id];
    } else {
      drainTokens(entry);
    }
    if (previous && ACTIVE[previous.state] && FINAL[data.state] && !(options && options.quiet)) {
      announceAnswer(entry);
    }
    scheduleRender(entry);
    return entry;
  }

  function drainTokens(entry) {
    var list = pendingTokens[entry.data.id];
    if (!list || !list.length) return;
    list.sort(function (a, b) {
      return a.offset - b.offset;
    });
    var rest = [];
    list.forEach(function (token) {
      if (!appendToken(entry, token.offset, token.text)) rest.push(token);
    });
    if (rest.length) pendingTokens[entry.data.id] = rest;
    else delete pendingTokens[entry.data.id];
  }

  // Returns false when the token starts beyond the text we have (a gap).
  function appendToken(entry, offset, text) {
    var data = entry.data;
    var length = data.content.length;
    if (offset > length) return false;
    if (offset + text.length > length) {
      data.content += text.slice(length - offset);
      if (data.state === "queued") data.state = "streaming";
    }
    return true;
  }

  function onToken(event) {
    if (event.conversation !== conversationId || !Number.isInteger(event.message)) return;
    if (typeof event.offset !== "number" || typeof event.text !== "string") return;
    var entry = entries.get(event.message);
    if (entry && FINAL[entry.data.state]) return; // the final text is already here
    if (entry && appendToken(entry, event.offset, event.text)) {
      scheduleRender(entry);
      return;
    }
    (pendingTokens[event.message] = pendingTokens[event.message] || []).push({ offset: event.offset, text: event.text });
    resync(event.message);
  }

  function resync(id, force) {
    if (resyncTimers[id] && !force) return;
    Hearth.send({ action: "message.get", id: id });
    clearTimeout(resyncTimers[id]);
    resyncTimers[id] = window.setTimeout(function () {
      delete resyncTimers[id];
      if (pendingTokens[id] && pendingTokens[id].length) resync(id);
    }, RESYNC_EVERY_MS);
  }

  function announceAnswer(entry) {
    var data = entry.data;
    var old = field(entry, "announce");
    var fresh = old.cloneNode(false);
    var text;
    if (data.state === "failed") {
      text = "The answer failed. " + (data.error || "");
    } else {
      var body = (field(entry, "body").textContent || data.content || "").trim();
      text = (data.state === "incomplete" ? "Answer stopped early: " : "Answer: ") + body;
    }
    fresh.textContent = text.length > 2000 ? text.slice(0, 2000) + "…" : text;
    old.parentNode.replaceChild(fresh, old);
    entry.fields.announce = fresh;
  }

  /* ---------------------------------------------------------- rendering */

  var dirty = new Set();
  var frame = 0;
  var frameTimer = 0;
  var lastRender = 0;

  function scheduleRender(entry) {
    dirty.add(entry);
    if (frame || frameTimer) return;
    var wait = RENDER_EVERY_MS - (performance.now() - lastRender);
    if (wait > 0) {
      frameTimer = window.setTimeout(function () {
        frameTimer = 0;
        frame = window.requestAnimationFrame(flushRender);
      }, wait);
    } else {
      frame = window.requestAnimationFrame(flushRender);
    }
  }

  function flushRender() {
    frame = 0;
    lastRender = performance.now();
    dirty.forEach(renderEntry);
    dirty.clear();
    refreshControls();
    if (pinned) scrollToBottom();
    else updateJump();
  }

  function setText(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  function stateText(data) {
    if (data.state === "queued") {
      var ahead = Number(data.queue_position) || 0;
      return ahead > 0 ? "Waiting for the model: " + plural(ahead, "answer", "answers") + " ahead of yours" : "Starting…";
    }
    if (data.state === "streaming" && !data.content) return "Thinking…";
    if (data.state === "incomplete" && !data.content) return "Stopped before the model wrote anything.";
    return "";
  }

  function statsText(data) {
    if (data.role !== "assistant" || !FINAL[data.state] || !data.context_size) return "";
    var parts = [];
    if (data.tokens_per_second) parts.push(data.tokens_per_second + " tokens/s");
    var used = (Number(data.prompt_tokens) || 0) + (Number(data.completion_tokens) || 0);
    parts.push("context: " + number(used) + "/" + number(data.context_size));
    return parts.join(" · ");
  }

  function renderImages(entry) {
    var data = entry.data;
    var list = field(entry, "images");
    var urls = (Array.isArray(data.images) ? data.images : []).filter(function (url) {
      return typeof url === "string" && /^\/chat\/images\/\d+\/$/.test(url);
    });
    var key = urls.join(" ");
    if (list.getAttribute("data-key") === key) return;
    list.setAttribute("data-key", key);
    list.replaceChildren();
    urls.forEach(function (url) {
      var item = doc.createElement("li");
      var link = doc.createElement("a");
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener";
      var img = doc.createElement("img");
      img.src = url;
      img.alt = "Attached photo";
      img.loading = "lazy";
      link.appendChild(img);
      item.appendChild(link);
      list.appendChild(item);
    });
    list.hidden = !urls.length;
  }

  function renderEntry(entry) {
    var data = entry.data;
    var el = entry.el;
    var active = !!ACTIVE[data.state];
    el.classList.toggle("msg--streaming", data.state === "streaming" && !!data.content);
    el.classList.toggle("msg--failed", data.state === "failed");
    el.setAttribute("data-state", data.state);
    el.setAttribute("data-length", String(data.content.length));
    if (active) el.setAttribute("aria-busy", "true");
    else el.removeAttribute("aria-busy");

    var body = field(entry, "body");
    var renderKey = data.content + "\u0000" + (Array.isArray(data.sources) ? data.sources.length : 0);
    if (entry.rendered !== renderKey) {
      if (data.role === "user") body.textContent = data.content;
      else renderMarkdown(body, data.content, data.sources);
      entry.rendered = renderKey;
    }
    renderImages(entry);
    if (data.role === "assistant") renderSources(entry);

    if (data.role === "assistant") {
      setText(field(entry, "model"), data.model);
      var badge = field(entry, "state");
      var showBadge = data.state !== "complete";
      badge.hidden = !showBadge;
      if (showBadge) {
        badge.className = "badge badge--" + data.state;
        badge.textContent = data.state === "queued" ? "Waiting" : data.state_label || data.state;
      }
      var waiting = stateText(data);
      field(entry, "waiting").hidden = !waiting;
      field(entry, "waiting").classList.toggle("msg__waiting--still", !active);
      field(entry, "waiting-text").textContent = waiting;
      setText(field(entry, "error"), data.state === "failed" ? data.error || "The model could not answer." : "");
      field(entry, "error-box").hidden = data.state !== "failed";
      field(entry, "notice-text").textContent = data.notice || "";
      field(entry, "notice").hidden = !data.notice;
      setText(field(entry, "stats"), statsText(data));
    }
    el.querySelector("[data-act='stop']").hidden = !active;
    el.querySelector("[data-act='copy']").hidden = !data.content || active;
    updateFoot(entry);
  }

  function updateFoot(entry) {
    var foot = entry.el.querySelector(".msg__foot");
    foot.hidden = !foot.querySelector("[data-act]:not([hidden]), [data-field='stats']:not([hidden])");
  }

  /* ----------------------------------------------------- page-wide state */

  function ordered() {
    return Array.from(entries.values()).sort(function (a, b) {
      return a.data.id - b.data.id;
    });
  }

  function activeEntry() {
    var found = null;
    entries.forEach(function (entry) {
      if (ACTIVE[entry.data.state]) found = entry;
    });
    return found;
  }

  function refreshControls() {
    var list = ordered();
    var active = activeEntry();
    var last = list[list.length - 1];
    list.forEach(function (entry) {
      var button = entry.el.querySelector("[data-act='regenerate']");
      button.hidden = !(hasModel && !active && entry === last && entry.data.role === "assistant" && FINAL[entry.data.state]);
      updateFoot(entry);
    });
    if (emptyState) emptyState.hidden = list.length > 0;
    updateComposer();
  }

  /* -------------------------------------------------------------- scroll */

  // Follow the newest text while the member is at the bottom; leave them be once they scroll up.
  var pinned = true;

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function scrollToBottom(smooth) {
    pinned = true;
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: smooth ? "smooth" : "auto" });
    if (jumpButton) jumpButton.hidden = true;
  }

  function updateJump() {
    if (jumpButton) jumpButton.hidden = pinned || nearBottom();
  }

  scroller.addEventListener(
    "scroll",
    function () {
      pinned = nearBottom();
      updateJump();
    },
    { passive: true }
  );
  if (window.ResizeObserver) {
    // The composer growing (a photo, a second line) shrinks the list: keep the bottom in view.
    new ResizeObserver(function () {
      if (pinned) scroller.scrollTop = scroller.scrollHeight;
    }).observe(scroller);
  }
  if (jumpButton) {
    jumpButton.addEventListener("click", function () {
      scrollToBottom(true);
    });
  }

  /* ------------------------------------------------------------ composer */

  var attachments = []; // {key, file, url, state: uploading|done, id, progress, xhr, element}
  var attachmentSeq = 0;
  var pendingSend = null; // what was sent and not yet confirmed: restored if the server refuses it
  var pendingTimer = 0;
  var draftKey = "hearth-chat-draft-" + conversationId;

  function uploading() {
    return attachments.some(function (item) {
      return item.state === "uploading";
    });
  }

  function readyImages() {
    return attachments
      .filter(function (item) {
        return item.state === "done";
      })
      .map(function (item) {
        return item.id;
      });
  }

  function canSend() {
    if (!hasModel || pendingSend || activeEntry() || uploading()) return false;
    return !!textarea.value.trim() || readyImages().length > 0;
  }

  function updateComposer() {
    var active = activeEntry();
    sendButton.hidden = !!active;
    stopButton.hidden = !active;
    sendButton.disabled = !canSend();
    sendButton.setAttribute("aria-label", uploading() ? "Send (waiting for the photos to upload)" : "Send");
    if (active) stopButton.setAttribute("data-message", String(active.data.id));
    else stopButton.removeAttribute("data-message");
  }

  function showError(text) {
    errorText.textContent = text;
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
    errorText.textContent = "";
  }

  doc.querySelector("[data-composer-error-close]").addEventListener("click", function () {
    hideError();
    textarea.focus();
  });

  var fieldSizing = window.CSS && CSS.supports && CSS.supports("field-sizing", "content");
  function autosize() {
    if (fieldSizing) return;
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight + 2, window.innerHeight * 0.4) + "px";
  }

  function saveDraft() {
    try {
      if (textarea.value) window.sessionStorage.setItem(draftKey, textarea.value);
      else window.sessionStorage.removeItem(draftKey);
    } catch (error) {
      /* storage blocked: the draft lives only in the page */
    }
  }

  function restoreDraft() {
    try {
      var draft = window.sessionStorage.getItem(draftKey);
      if (draft && !textarea.value) textarea.value = draft;
    } catch (error) {
      /* nothing to restore */
    }
  }

  function setTitle(title) {
    if (!title) return;
    titleElement.textContent = title;
    doc.title = title + " · Chat · Hearth";
    var item = doc.querySelector(".convo[data-convo='" + conversationId + "']");
    if (item) renameListItem(item, title);
  }

  function send() {
    if (!canSend()) return;
    var text = textarea.value;
    var images = readyImages();
    var sent = Hearth.send({ action: "chat.send", conversation: conversationId, text: text, images: images });
    if (!sent) {
      showError("Hearth isn't connected right now. Your message is still here: send it again when the connection is back.");
      return;
    }
    hideError();
    pendingSend = { text: text, attachments: attachments };
    attachments = [];
    renderAttachments();
    textarea.value = "";
    saveDraft();
    autosize();
    updateComposer();
    clearTimeout(pendingTimer);
    pendingTimer = window.setTimeout(function () {
      if (pendingSend) restorePending("Hearth didn't confirm your message. Check the connection and send it again.");
    }, 20000);
    scrollToBottom();
  }

  function confirmPending() {
    if (!pendingSend) return;
    var text = pendingSend.text.trim();
    if (titleElement.textContent.trim() === "New chat" && text) {
      setTitle(text.split(/\r?\n/)[0].slice(0, 60)); // as the server names a new conversation
    }
    pendingSend.attachments.forEach(function (item) {
      URL.revokeObjectURL(item.url);
    });
    pendingSend = null;
    clearTimeout(pendingTimer);
    updateComposer();
  }

  function restorePending(message) {
    var pending = pendingSend;
    pendingSend = null;
    clearTimeout(pendingTimer);
    if (pending) {
      if (!textarea.value.trim()) textarea.value = pending.text;
      attachments = pending.attachments.concat(attachments);
      renderAttachments();
      saveDraft();
      autosize();
    }
    showError(message);
    updateComposer();
    textarea.focus();
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  textarea.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
    if (event.isComposing || event.keyCode === 229) return; // an IME is choosing characters
    event.preventDefault();
    send();
  });

  textarea.addEventListener("input", function () {
    autosize();
    saveDraft();
    updateComposer();
  });

  stopButton.addEventListener("click", function () {
    var id = Number(stopButton.getAttribute("data-message"));
    if (Number.isInteger(id) && id > 0) stopAnswer(id);
  });

  function stopAnswer(id) {
    if (!Hearth.send({ action: "chat.stop", message: id })) {
      showError("Hearth isn't connected right now, so the answer can't be stopped. Try again in a moment.");
    }
  }

  /* ---------------------------------------------------------- attachments */

  function renderAttachments() {
    attachmentList.replaceChildren();
    attachments.forEach(function (item) {
      if (!item.element) {
        var element = attachmentTemplate.content.firstElementChild.cloneNode(true);
        element.querySelector("img").src = item.url;
        element.querySelector("img").alt = item.file.name || "Photo";
        element.querySelector(".attachment__remove").addEventListener("click", function () {
          removeAttachment(item);
          textarea.focus();
        });
        item.element = element;
      }
      updateAttachment(item);
      attachmentList.appendChild(item.element);
    });
    attachmentList.hidden = !attachments.length;
    updateComposer();
  }

  function updateAttachment(item) {
    var element = item.element;
    if (!element) return;
    element.classList.toggle("attachment--uploading", item.state === "uploading");
    var progress = element.querySelector("progress");
    progress.value = Math.round(item.progress);
    progress.setAttribute("aria-label", "Uploading " + (item.file.name || "photo"));
    element.querySelector(".attachment__remove .sr-only").textContent = "Remove " + (item.file.name || "photo");
  }

  function removeAttachment(item) {
    if (item.xhr && item.state === "uploading") item.xhr.abort();
    URL.revokeObjectURL(item.url);
    attachments = attachments.filter(function (other) {
      return other !== item;
    });
    renderAttachments();
  }

  function failAttachment(item, message) {
    removeAttachment(item);
    showError(message);
  }

  function upload(item) {
    var xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", Hearth.csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        item.progress = (event.loaded / event.total) * 100;
        updateAttachment(item);
      }
    });
    xhr.addEventListener("load", function () {
      var data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (error) {
        data = null;
      }
      if (xhr.status === 200 && data && Number.isInteger(data.id)) {
        item.state = "done";
        item.id = data.id;
        item.progress = 100;
        updateAttachment(item);
        updateComposer();
        return;
      }
      var reason = data && typeof data.error === "string" ? data.error : "The server answered " + xhr.status + ".";
      failAttachment(item, "“" + (item.file.name || "Photo") + "” wasn't attached: " + reason);
    });
    xhr.addEventListener("error", function () {
      failAttachment(item, "Couldn't reach Hearth to upload “" + (item.file.name || "the photo") + "”. Try again.");
    });
    Hearth.sendFile(xhr, item.file);
  }

  function addFiles(files) {
    if (!hasModel) return;
    Array.prototype.slice.call(files || []).forEach(function (file) {
      if (file.type && file.type.indexOf("image/") !== 0) {
        showError("“" + file.name + "” isn't a photo. Only images can be attached.");
        return;
      }
      if (attachments.length >= MAX_ATTACHMENTS) {
        showError("At most " + MAX_ATTACHMENTS + " photos can go with one message.");
        return;
      }
      var item = { key: ++attachmentSeq, file: file, url: URL.createObjectURL(file), state: "uploading", id: null, progress: 0 };
      attachments.push(item);
      upload(item);
    });
    renderAttachments();
  }

  attachButton.addEventListener("click", function () {
    fileInput.click();
  });
  cameraButton.addEventListener("click", function () {
    cameraInput.click();
  });
  [fileInput, cameraInput].forEach(function (input) {
    input.addEventListener("change", function () {
      addFiles(input.files);
      input.value = "";
      textarea.focus();
    });
  });

  textarea.addEventListener("paste", function (event) {
    var items = event.clipboardData ? Array.prototype.slice.call(event.clipboardData.items || []) : [];
    var files = items
      .filter(function (item) {
        return item.kind === "file" && item.type.indexOf("image/") === 0;
      })
      .map(function (item) {
        return item.getAsFile();
      })
      .filter(Boolean);
    if (!files.length) return;
    addFiles(files);
    if (!event.clipboardData.getData("text/plain")) event.preventDefault();
  });

  // Dragging photos anywhere onto the page.
  var dragDepth = 0;
  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }
  doc.addEventListener("dragenter", function (event) {
    if (!hasFiles(event) || !hasModel) return;
    event.preventDefault();
    dragDepth += 1;
    dropZone.hidden = false;
  });
  doc.addEventListener("dragover", function (event) {
    if (!hasFiles(event) || !hasModel) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  doc.addEventListener("dragleave", function (event) {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropZone.hidden = true;
  });
  doc.addEventListener("drop", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    dropZone.hidden = true;
    addFiles(event.dataTransfer.files);
    textarea.focus();
  });

  /* ------------------------------------------------------ message actions */

  log.addEventListener("click", function (event) {
    var codeCopy = event.target.closest("[data-copy-code]");
    if (codeCopy) {
      var code = codeCopy.closest(".code").querySelector("pre");
      copyFeedback(codeCopy, code ? code.textContent : "");
      return;
    }
    var button = event.target.closest("[data-act]");
    if (!button) return;
    var article = button.closest("[data-message-id]");
    var entry = article && entries.get(Number(article.getAttribute("data-message-id")));
    if (!entry) return;
    var action = button.getAttribute("data-act");
    if (action === "copy") {
      copyFeedback(button, entry.data.content);
    } else if (action === "stop") {
      stopAnswer(entry.data.id);
    } else if (action === "regenerate") {
      if (Hearth.send({ action: "chat.regenerate", message: entry.data.id })) {
        hideError();
        button.hidden = true;
      } else {
        showError("Hearth isn't connected right now. Try again in a moment.");
      }
    }
  });

  $all("[data-suggest]").forEach(function (button) {
    button.addEventListener("click", function () {
      textarea.value = button.getAttribute("data-suggest");
      autosize();
      saveDraft();
      updateComposer();
      textarea.focus();
      textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    });
  });

  /* ------------------------------------------------------------- websocket */

  Hearth.on("chat.message", function (event) {
    var payload = event.message;
    if (!validPayload(payload) || payload.conversation !== conversationId) return;
    var known = entries.has(payload.id);
    applyPayload(payload);
    if (payload.role === "user" && !known) {
      confirmPending();
      scrollToBottom();
    }
  });

  Hearth.on("chat.token", onToken);

  var CHAT_ACTIONS = { "chat.send": true, "chat.stop": true, "chat.regenerate": true };
  Hearth.on("error", function (event) {
    if (!event || !CHAT_ACTIONS[event.action]) return;
    var text = typeof event.error === "string" && event.error ? event.error : "Hearth refused that.";
    if (event.action === "chat.send" && pendingSend) restorePending(text);
    else showError(text);
    refreshControls();
  });

  Hearth.on("socket:open", function (info) {
    if (info && info.reconnect) resyncConversation();
    entries.forEach(function (entry) {
      if (!FINAL[entry.data.state]) resync(entry.data.id, true);
    });
  });

  // After a reconnect, messages written meanwhile (on another device, say) are read from the page itself.
  function resyncConversation() {
    if (!window.fetch || !window.DOMParser) return;
    window
      .fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var seed = new DOMParser().parseFromString(html, "text/html").getElementById("chat-history");
        if (!seed) return;
        JSON.parse(seed.textContent).forEach(function (payload) {
          applyPayload(payload, { quiet: true });
        });
      })
      .catch(function () {
        /* the next reconnect tries again */
      });
  }

  /* ------------------------------------------------ conversation list drawer */

  var list = doc.querySelector("[data-chat-list]");
  var listToggle = doc.querySelector("[data-list-toggle]");
  var listBackdrop = doc.querySelector("[data-list-backdrop]");
  var chatMain = doc.querySelector(".chat-main");
  var drawerQuery = window.matchMedia("(max-width: 74.99rem)");
  var listOpen = false;

  function setList(open, options) {
    var drawer = drawerQuery.matches;
    var was = listOpen;
    listOpen = open && drawer;
    root.classList.toggle("chat--list-open", listOpen);
    listToggle.hidden = !drawer;
    listToggle.setAttribute("aria-expanded", String(listOpen));
    listBackdrop.hidden = !listOpen;
    if (drawer && !listOpen) list.setAttribute("inert", "");
    else list.removeAttribute("inert");
    if (listOpen) chatMain.setAttribute("inert", "");
    else chatMain.removeAttribute("inert");
    if (listOpen && !was) {
      var target = list.querySelector("[aria-current='page']") || list.querySelector("a, button");
      if (target) target.focus();
    } else if (was && !listOpen && !(options && options.keepFocus)) {
      listToggle.focus();
    }
  }

  listToggle.addEventListener("click", function () {
    setList(!listOpen);
  });
  listBackdrop.addEventListener("click", function () {
    setList(false);
  });
  doc.querySelector("[data-list-close]").addEventListener("click", function () {
    setList(false);
  });
  doc.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && listOpen && !event.target.closest("[data-rename-form]")) {
      event.preventDefault();
      setList(false);
    }
  });
  var onDrawerChange = function () {
    setList(false, { keepFocus: true });
  };
  if (drawerQuery.addEventListener) drawerQuery.addEventListener("change", onDrawerChange);
  else if (drawerQuery.addListener) drawerQuery.addListener(onDrawerChange);
  setList(false, { keepFocus: true });

  /* -------------------------------------------------------- inline rename */

  function renameListItem(item, title) {
    var link = item.querySelector("[data-convo-title]");
    if (link) link.textContent = title;
    var input = item.querySelector("input[name='title']");
    if (input) input.value = title;
    var renameButton = item.querySelector("[data-rename]");
    if (renameButton) renameButton.setAttribute("aria-label", "Rename “" + title + "”");
    var deleteForm = item.querySelector("form[data-confirm]");
    if (deleteForm) {
      deleteForm.setAttribute("data-confirm", "Delete “" + title + "”? Its messages are removed for good.");
      deleteForm.querySelector("button").setAttribute("aria-label", "Delete “" + title + "”");
    }
  }

  $all(".convo").forEach(function (item) {
    var button = item.querySelector("[data-rename]");
    var form = item.querySelector("[data-rename-form]");
    var input = form.querySelector("input[name='title']");
    var link = item.querySelector("[data-convo-title]");
    var busy = false;
    button.hidden = false;

    function close(focusButton) {
      item.classList.remove("convo--renaming");
      form.hidden = true;
      if (focusButton) button.focus();
    }

    function save() {
      var title = input.value.trim();
      if (busy) return;
      if (!title || title === link.textContent) {
        input.value = link.textContent;
        close(true);
        return;
      }
      busy = true;
      window
        .fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": Hearth.csrfToken(form) },
        })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          var saved = (data && data.title) || title;
          if (Number(item.getAttribute("data-convo")) === conversationId) setTitle(saved);
          else renameListItem(item, saved);
        })
        .catch(function () {
          input.value = link.textContent;
          Hearth.toast({ tone: "error", title: "Couldn't rename the chat", text: "Check your connection and try again." });
        })
        .then(function () {
          busy = false;
          close(true);
        });
    }

    button.addEventListener("click", function () {
      item.classList.add("convo--renaming");
      form.hidden = false;
      input.value = link.textContent;
      input.focus();
      input.select();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        input.value = link.textContent;
        close(true);
      }
    });
    input.addEventListener("blur", function () {
      if (!form.hidden) save();
    });
  });

  /* ------------------------------------------------- model, persona, prompt */

  var settingsForm = doc.querySelector("[data-settings-form]");
  if (settingsForm && window.fetch) {
    var saveSettings = function (what) {
      window
        .fetch(settingsForm.action, {
          method: "POST",
          body: new FormData(settingsForm),
          credentials: "same-origin",
          headers: { "X-CSRFToken": Hearth.csrfToken(settingsForm) },
        })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          Hearth.toast({ tone: "success", title: what, timeout: 3000 });
          var panel = settingsForm.querySelector("[data-settings-panel]");
          if (panel && what === "System prompt saved") panel.open = false;
        })
        .catch(function () {
          HTMLFormElement.prototype.submit.call(settingsForm); // the plain way shows the real error
        });
    };
    $all("[data-autosave]", settingsForm).forEach(function (select) {
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        var name = select.name === "model" ? "Model" : "Persona";
        saveSettings(name + ": " + (option ? option.textContent.trim() : ""));
      });
    });
    $all("[data-docs-autosave]", settingsForm).forEach(function (input) {
      input.addEventListener("change", function () {
        var mode = settingsForm.querySelector("input[name='documents_scope']:checked");
        var label = mode && mode.parentNode ? mode.parentNode.textContent.trim() : "";
        if (input.name === "documents" && input.checked && mode && mode.value !== "selected") {
          var selected = settingsForm.querySelector("input[name='documents_scope'][value='selected']");
          if (selected) {
            selected.checked = true;
            label = selected.parentNode.textContent.trim();
          }
        }
        var summary = settingsForm.querySelector("[data-docs-summary]");
        if (summary) summary.textContent = label;
        saveSettings("Documents: " + label);
      });
    });
    settingsForm.addEventListener("submit", function (event) {
      event.preventDefault();
      saveSettings("System prompt saved");
    });
  }

  /* ----------------------------------------------------------------- start */

  var seed = [];
  try {
    seed = JSON.parse(doc.getElementById("chat-history").textContent) || [];
  } catch (error) {
    seed = [];
  }
  seed.forEach(function (payload) {
    applyPayload(payload, { quiet: true });
  });
  restoreDraft();
  autosize();
  // The first paint is immediate, not batched, so the page opens at the right place.
  if (frame) window.cancelAnimationFrame(frame);
  clearTimeout(frameTimer);
  frame = 0;
  frameTimer = 0;
  dirty.forEach(renderEntry);
  dirty.clear();
  refreshControls();

  var target = /^#m(\d+)$/.exec(window.location.hash);
  var targetEntry = target && entries.get(Number(target[1]));
  if (targetEntry) {
    targetEntry.el.scrollIntoView({ block: "center" });
    targetEntry.el.classList.add("msg--highlight");
    targetEntry.el.focus({ preventScroll: true });
  } else {
    scrollToBottom();
    if (hasModel && window.matchMedia("(pointer: fine)").matches) textarea.focus({ preventScroll: true });
  }
})();
