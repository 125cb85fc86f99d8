/* The Documents pages: uploads (picker, folder, drag and drop) with per-file progress, then the live
   indexing progress of each document over Hearth's websocket (see hearth.js), and the row actions.

   Each file is POSTed on its own, so one refused file never stops the rest of a batch. Without
   JavaScript the upload form posts all files at once and the server answers with messages.
   Server data is only put in the page with textContent. */
(function () {
  "use strict";

  var doc = document;
  var Hearth = window.Hearth;
  if (!Hearth) return;

  var BADGE = { uploading: "running", queued: "queued", indexing: "running", ready: "succeeded", failed: "failed", cancelled: "unknown", refused: "failed" };
  var ACTIVE = { queued: true, indexing: true };
  var PARALLEL = 2;

  function field(row, name) {
    return row.querySelector("[data-field='" + name + "']");
  }

  function setText(element, text) {
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  }

  function announce(text) {
    var region = doc.querySelector("[data-announce]");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = text;
    }, 50);
  }

  function urlFor(pattern, id) {
    return pattern ? pattern.replace(/\/0\/(?=[^/]*\/?$)/, "/" + id + "/") : "";
  }

  function humanBytes(size) {
    var units = ["bytes", "KB", "MB", "GB"];
    var value = Number(size) || 0;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? String(Math.round(value)) : value.toFixed(1)) + " " + units[unit];
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  /* --------------------------------------------------------- a document's page */

  var detail = doc.querySelector("[data-document-page]");
  if (detail) {
    var detailId = Number(detail.getAttribute("data-document-id"));
    Hearth.on("document", function (message) {
      var payload = message && message.document;
      if (!payload || payload.id !== detailId) return;
      if (payload.status !== detail.getAttribute("data-status") && !ACTIVE[payload.status]) window.location.reload();
    });
  }

  /* ------------------------------------------------------------- the list page */

  var page = doc.querySelector("[data-documents-page]");
  if (!page) return;
  var list = page.querySelector("[data-documents-list]");
  var template = doc.getElementById("document-row-template");
  var form = page.querySelector("[data-upload-form]");
  var dropzone = page.querySelector("[data-dropzone]");
  var cover = page.querySelector("[data-dropcover]");
  var summary = page.querySelector("[data-upload-summary]");
  var documentPattern = page.getAttribute("data-document-pattern");
  var maxBytes = Number(page.getAttribute("data-max-bytes")) || 0;
  var maxLabel = page.getAttribute("data-max-label") || "";
  var kinds = (page.getAttribute("data-accept") || "").split(",");
  var latestJob = {}; // job id -> newest job payload, for events that beat the upload's response
  var pushed = {}; // document id -> its latest pushed payload, likewise (any push is newer than the response)

  function showList() {
    page.querySelector("[data-documents-section]").hidden = false;
    page.querySelector("[data-documents-empty]").hidden = true;
    updateCount();
  }

  function updateCount() {
    var count = page.querySelector("[data-documents-count]");
    if (count) count.textContent = String(list.querySelectorAll("[data-document-id]:not([data-document-id=''])").length);
  }

  function rowFor(id) {
    return list.querySelector("[data-document-id='" + String(Number(id)) + "']");
  }

  function rowForJob(id) {
    return list.querySelector("[data-job-id='" + String(Number(id)) + "']");
  }

  function newRow(file) {
    var row = template.content.firstElementChild.cloneNode(true);
    field(row, "link").textContent = file.name;
    field(row, "link").removeAttribute("href");
    setText(field(row, "kind"), "");
    setText(field(row, "size"), humanBytes(file.size));
    list.insertBefore(row, list.firstElementChild);
    showList();
    return row;
  }

  function setStatus(row, status, label) {
    row.setAttribute("data-status", status);
    row.className = "job doc doc--" + status + (status === "failed" || status === "refused" ? " job--failed" : "");
    var badge = field(row, "status");
    badge.textContent = label;
    badge.className = "badge badge--" + (BADGE[status] || "queued");
  }

  function setProgress(row, fraction, text) {
    var box = field(row, "progress-box");
    var bar = field(row, "progress");
    var percent = field(row, "percent");
    if (fraction === false) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    if (fraction === null) {
      bar.removeAttribute("value");
      bar.setAttribute("aria-valuetext", text || "Working");
      setText(percent, "");
    } else {
      var value = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
      bar.value = value;
      bar.setAttribute("aria-valuetext", value + "%");
      setText(percent, value + "%");
    }
  }

  function setError(row, text) {
    field(row, "error").textContent = text || "";
    field(row, "error-box").hidden = !text;
  }

  function showActions(row, names) {
    Array.prototype.forEach.call(row.querySelectorAll("form[data-doc-action]"), function (actionForm) {
      actionForm.hidden = names.indexOf(actionForm.getAttribute("data-doc-action")) < 0;
    });
    row.querySelector("[data-doc-dismiss]").hidden = names.indexOf("dismiss") < 0;
  }

  // Fill a row from a document payload (from an upload's answer, an action's, or a websocket event).
  function renderDocument(row, payload) {
    var id = String(payload.id);
    var previous = row.getAttribute("data-status");
    row.setAttribute("data-document-id", id);
    row.setAttribute("data-job-id", payload.job ? String(payload.job) : "");
    var link = field(row, "link");
    link.textContent = payload.name;
    link.setAttribute("href", urlFor(documentPattern, id));
    setText(field(row, "kind"), payload.kind_label);
    setText(field(row, "size"), humanBytes(payload.size_bytes));
    setText(field(row, "pages"), payload.page_count ? plural(payload.page_count, payload.page_label) : "");
    setText(field(row, "chunks"), payload.chunk_count ? plural(payload.chunk_count, "passage") : "");
    Array.prototype.forEach.call(row.querySelectorAll("form[data-doc-action]"), function (actionForm) {
      actionForm.action = urlFor(actionForm.getAttribute("data-url-pattern"), id);
      if (actionForm.getAttribute("data-doc-action") === "delete") {
        actionForm.setAttribute("data-confirm", "Delete " + payload.name + "? Its file and passages are removed from Hearth.");
      }
    });

    var status = payload.status;
    setStatus(row, status, payload.status_label || status);
    setError(row, payload.error);
    if (ACTIVE[status]) {
      var job = payload.job && latestJob[payload.job];
      var fraction = job ? Number(job.progress) || 0 : Number(payload.progress) || 0;
      var message = job ? job.message : payload.message;
      setProgress(row, status === "indexing" && !fraction ? null : fraction, message);
      setText(field(row, "message"), message && message !== payload.status_label ? message : "");
      showActions(row, ["cancel", "delete"]);
    } else {
      setProgress(row, status === "ready" ? 1 : false);
      if (status === "ready") field(row, "progress-box").hidden = true;
      setText(field(row, "message"), "");
      field(row, "reindex-label").textContent = status === "ready" ? "Re-index" : "Retry";
      showActions(row, ["reindex", "delete"]);
    }
    if (previous && previous !== status && (status === "ready" || status === "failed")) {
      announce(payload.name + ": " + (payload.status_label || status) + (payload.error ? ". " + payload.error : ""));
    }
  }

  function renderJob(row, job) {
    var status = row.getAttribute("data-status");
    if (!ACTIVE[status]) return;
    var fraction = Math.max(0, Math.min(1, Number(job.progress) || 0));
    if (job.status === "running" && status === "queued") setStatus(row, "indexing", "Indexing");
    setProgress(row, job.status === "running" && !fraction ? null : fraction, job.message);
    setText(field(row, "message"), job.message && job.message !== job.status_label ? job.message : "");
    if (job.status === "succeeded" || job.status === "failed" || job.status === "cancelled") refresh(row);
  }

  // Re-read a document's row from the server (the database is the record; pushes only notify).
  function refresh(row) {
    var id = row.getAttribute("data-document-id");
    if (!id) return;
    window
      .fetch(urlFor(documentPattern, id), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) {
          row.remove();
          updateCount();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.document) renderDocument(row, data.document);
      })
      .catch(function () {
        /* the row keeps its state; a reload shows the latest */
      });
  }

  Hearth.on("document", function (message) {
    var payload = message && message.document;
    if (!payload || !Number.isInteger(payload.id)) return;
    pushed[payload.id] = payload;
    var row = rowFor(payload.id);
    if (row) renderDocument(row, payload);
  });

  Hearth.on("job", function (message) {
    var job = message && message.job;
    if (!job || !Number.isInteger(job.id)) return;
    var previous = latestJob[job.id];
    if (previous && Number(job.seq) < Number(previous.seq)) return;
    latestJob[job.id] = job;
    var row = rowForJob(job.id);
    if (row) renderJob(row, job);
  });

  // After a (re)connect, events may have been missed: re-read every document still being indexed.
  Hearth.on("socket:open", function () {
    Array.prototype.forEach.call(list.querySelectorAll("[data-document-id]"), function (row) {
      if (ACTIVE[row.getAttribute("data-status")]) refresh(row);
    });
  });

  /* -------------------------------------------------------------- row actions */

  function postJson(url) {
    return window
      .fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": Hearth.csrfToken(form), "X-Requested-With": "fetch" },
      })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) return { status: response.status, data: null };
        return response.json().then(function (data) {
          return { status: response.status, data: data };
        });
      })
      .catch(function () {
        return { status: 0, data: null };
      });
  }

  list.addEventListener("submit", function (event) {
    var actionForm = event.target;
    var row = actionForm.closest("[data-document-id]");
    if (event.defaultPrevented || !row || !window.fetch) return;
    event.preventDefault();
    if (actionForm.hasAttribute("data-busy")) return;
    actionForm.setAttribute("data-busy", "");
    var action = actionForm.getAttribute("data-doc-action");
    postJson(actionForm.action).then(function (result) {
      actionForm.removeAttribute("data-busy");
      var data = result.data;
      if (action === "delete" && data && data.deleted) {
        var name = field(row, "link").textContent;
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        updateCount();
        if (!list.children.length) {
          page.querySelector("[data-documents-section]").hidden = true;
          page.querySelector("[data-documents-empty]").hidden = false;
        }
        announce("Deleted " + name);
        var focus = next && next.querySelector("a, button");
        if (focus) focus.focus();
      } else if (data && data.document) {
        renderDocument(row, data.document);
        var visible = row.querySelector("form[data-doc-action]:not([hidden]) button");
        if (visible && actionForm.hidden) visible.focus();
      } else {
        Hearth.toast({
          tone: "error",
          title: "That didn't work",
          text: (data && data.error) || (result.status === 0 ? "Couldn't reach Hearth. Check your connection." : "Reload the page and try again."),
        });
      }
    });
  });

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-doc-dismiss]");
    if (!button) return;
    var row = button.closest("li");
    row.remove();
    if (!list.children.length) {
      page.querySelector("[data-documents-section]").hidden = true;
      page.querySelector("[data-documents-empty]").hidden = false;
    }
  });

  /* ------------------------------------------------------------------ uploads */

  var queue = [];
  var running = 0;

  function refuse(row, text, existing) {
    setStatus(row, "refused", "Not added");
    setProgress(row, false);
    setText(field(row, "message"), "");
    setError(row, text);
    if (existing) {
      var link = field(row, "link");
      link.setAttribute("href", urlFor(documentPattern, String(existing.id)));
    }
    showActions(row, ["dismiss"]);
    row.removeAttribute("data-document-id");
  }

  function uploadOne(item) {
    var row = item.row;
    var file = item.file;
    var xhr = new XMLHttpRequest();
    setStatus(row, "uploading", "Uploading");
    setProgress(row, 0);
    setText(field(row, "message"), "Uploading " + humanBytes(file.size));

    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var done = event.loaded >= event.total;
      setProgress(row, done ? null : event.loaded / event.total, "Checking");
      setText(
        field(row, "message"),
        done ? "Uploaded; checking the file" : "Uploading: " + humanBytes(Math.min(file.size, event.loaded)) + " of " + humanBytes(file.size)
      );
    });
    xhr.addEventListener("load", function () {
      var data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (error) {
        data = null;
      }
      if (xhr.status === 201 && data && data.document) {
        if (rowFor(data.document.id)) rowFor(data.document.id).remove();
        renderDocument(row, pushed[data.document.id] || data.document);
        updateCount();
      } else if (data && data.error) {
        refuse(row, data.error, xhr.status === 409 ? data.existing : null);
      } else if (xhr.status === 403) {
        refuse(row, "Hearth refused the upload. Reload the page (you may have been signed out) and try again.");
      } else if (xhr.status === 413) {
        refuse(row, "The file is larger than the server accepts.");
      } else {
        refuse(row, "The upload failed (the server answered " + xhr.status + "). Try again.");
      }
      finished(item, xhr.status === 201);
    });
    xhr.addEventListener("error", function () {
      refuse(row, "The connection was lost during the upload, so nothing was kept. Try again.");
      finished(item, false);
    });
    xhr.open("POST", page.getAttribute("data-upload-url"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", Hearth.csrfToken(form));
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    Hearth.sendFile(xhr, file);
  }

  var batch = { total: 0, added: 0, refused: 0, skipped: 0 };

  function report() {
    if (!summary) return;
    var parts = [];
    if (batch.added) parts.push(plural(batch.added, "document") + " added");
    if (batch.refused) parts.push(batch.refused + " not added (see below)");
    if (batch.skipped) parts.push(plural(batch.skipped, "file") + " in the folder skipped (not a document kind Hearth reads)");
    var pending = batch.total - batch.added - batch.refused;
    if (pending > 0) parts.unshift("Uploading " + pending + " of " + batch.total);
    setText(summary, parts.join("; ") + (parts.length ? "." : ""));
  }

  function finished(item, ok) {
    running -= 1;
    if (ok) batch.added += 1;
    else batch.refused += 1;
    report();
    pump();
  }

  function pump() {
    while (running < PARALLEL && queue.length) {
      running += 1;
      uploadOne(queue.shift());
    }
    if (!running && !queue.length && batch.total) announce(summary ? summary.textContent : "Uploads finished");
  }

  function isDocumentName(name) {
    var lower = name.toLowerCase();
    return kinds.some(function (suffix) {
      return suffix && lower.length > suffix.length && lower.slice(-suffix.length) === suffix;
    });
  }

  // files: File objects; fromFolder: keep only document kinds and skip hidden files.
  function enqueue(files, fromFolder) {
    if (!running && !queue.length) batch = { total: 0, added: 0, refused: 0, skipped: 0 };
    files.forEach(function (file) {
      var path = file.webkitRelativePath || file.relativePath || file.name;
      if (fromFolder && (/(^|\/)\./.test(path) || !isDocumentName(file.name))) {
        batch.skipped += 1;
        return;
      }
      batch.total += 1;
      var row = newRow(file);
      if (maxBytes && file.size > maxBytes) {
        refuse(row, "“" + file.name + "” is larger than the " + maxLabel + " limit for documents.");
        batch.refused += 1;
        return;
      }
      setStatus(row, "uploading", "Waiting");
      setProgress(row, 0);
      queue.push({ file: file, row: row });
    });
    report();
    pump();
  }

  if (form && list && template) {
    var noJsSubmit = form.querySelector("[data-no-js-submit]");
    if (noJsSubmit) noJsSubmit.hidden = true;
    var hint = form.querySelector("[data-drop-hint]");
    if (hint) hint.hidden = false;
    Array.prototype.forEach.call(form.querySelectorAll("input[type='file']"), function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        if (files.length) enqueue(files, input.getAttribute("data-pick") === "folder");
        input.value = "";
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
  }

  /* ------------------------------------------------------------ drag and drop */

  var dragDepth = 0;

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }

  function dragging(on) {
    if (cover) cover.hidden = !on;
    if (dropzone) dropzone.classList.toggle("is-dragging", on);
  }

  // Read a dropped folder's entries, recursively (entries come in batches of up to 100).
  function readEntry(entry, into) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(
          function (file) {
            into.push({ file: file, folder: true, path: entry.fullPath });
            resolve();
          },
          function () {
            resolve();
          }
        );
      } else if (entry.isDirectory) {
        var reader = entry.createReader();
        var readBatch = function () {
          reader.readEntries(
            function (entries) {
              if (!entries.length) return resolve();
              Promise.all(
                entries.map(function (child) {
                  return readEntry(child, into);
                })
              ).then(readBatch);
            },
            function () {
              resolve();
            }
          );
        };
        readBatch();
      } else {
        resolve();
      }
    });
  }

  doc.addEventListener("dragenter", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth += 1;
    dragging(true);
  });
  doc.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  doc.addEventListener("dragleave", function (event) {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dragging(false);
  });
  doc.addEventListener("drop", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    dragging(false);
    var items = Array.prototype.slice.call(event.dataTransfer.items || []);
    var entries = items
      .map(function (item) {
        return item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      })
      .filter(Boolean);
    if (!entries.length) {
      enqueue(Array.prototype.slice.call(event.dataTransfer.files || []), false);
      return;
    }
    var loose = [];
    var inFolders = [];
    Promise.all(
      entries.map(function (entry) {
        return entry.isDirectory ? readEntry(entry, inFolders) : readEntry(entry, loose);
      })
    ).then(function () {
      if (loose.length) enqueue(loose.map(function (found) { return found.file; }), false);
      if (inFolders.length) enqueue(inFolders.map(function (found) { return found.file; }), true);
    });
  });
})();
