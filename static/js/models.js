/* The Models page: browser uploads with a progress bar, imports by server path, and the live progress
   of the import jobs that follow (over Hearth's websocket, see hearth.js).

   An upload is checked here before a byte is sent (size limit, GGUF signature), then again by the
   server as the bytes arrive, then fully by a worker. Without JavaScript the same forms post normally.
   Server data is only put in the page with textContent. */
(function () {
  "use strict";

  var doc = document;
  var page = doc.querySelector("[data-models-page]");
  var Hearth = window.Hearth;
  if (!page || !Hearth) return;

  var MODEL_KINDS = { model_import: true, models_scan: true };
  var FINAL = { succeeded: true, failed: true, cancelled: true };
  var CLASS_FOR = { uploading: "running", queued: "queued", running: "running", succeeded: "succeeded", failed: "failed", cancelled: "cancelled" };
  var GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"

  var list = page.querySelector("[data-import-list]");
  var template = doc.getElementById("import-row-template");
  var uploadForm = page.querySelector("[data-upload-form]");
  var pathForm = page.querySelector("[data-path-form]");
  var errorBox = page.querySelector("[data-import-error]");
  var errorText = page.querySelector("[data-import-error-text]");
  var uploads = new WeakMap(); // row -> XMLHttpRequest while its upload is in flight
  var latest = {}; // job id -> newest payload seen, for events that beat the response naming the job

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
    if (region) region.textContent = text;
  }

  function showError(text) {
    if (!errorBox) return;
    errorText.textContent = text || "";
    errorBox.hidden = !text;
  }

  function humanBytes(size) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var value = Number(size) || 0;
    var unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return (unit === 0 ? String(Math.round(value)) : value.toFixed(1)) + " " + units[unit];
  }

  /* ------------------------------------------------------------ import rows */

  function addRow(title) {
    var row = template.content.firstElementChild.cloneNode(true);
    field(row, "title").textContent = title;
    list.insertBefore(row, list.firstElementChild);
    list.hidden = false;
    return row;
  }

  function removeRow(row) {
    row.remove();
    if (!list.children.length) list.hidden = true;
  }

  // state: {status, label, fraction (null while nothing can be measured), message, error, canCancel}
  function render(row, state) {
    var status = CLASS_FOR[state.status] || "queued";
    row.className = "job job--" + status;
    row.setAttribute("data-status", state.status);
    var badge = field(row, "status");
    badge.textContent = state.label || state.status;
    badge.className = "badge badge--" + status;

    var progress = field(row, "progress");
    var percent = field(row, "percent");
    if (state.fraction === null || state.fraction === undefined) {
      progress.removeAttribute("value");
      progress.setAttribute("aria-valuetext", state.label || "Working");
      setText(percent, "");
    } else {
      var value = Math.round(Math.max(0, Math.min(1, state.fraction)) * 100);
      progress.value = value;
      progress.setAttribute("aria-valuetext", value + "%");
      setText(percent, value + "%");
    }
    setText(field(row, "message"), state.message);
    field(row, "error").textContent = state.error || "";
    field(row, "error-box").hidden = !state.error;
    row.querySelector("[data-row-action='cancel']").hidden = !state.canCancel;
    row.querySelector("[data-row-action='dismiss']").hidden = !FINAL[state.status];
  }

  function renderJob(row, job) {
    var seq = Number(job.seq);
    var seen = Number(row.getAttribute("data-seq"));
    if (row.hasAttribute("data-seq") && Number.isFinite(seen) && seq < seen) return;
    row.setAttribute("data-seq", String(seq));
    var waiting = job.status === "running" && !job.progress;
    render(row, {
      status: job.status,
      label: job.status_label || job.status,
      fraction: waiting ? null : Number(job.progress) || 0,
      message: job.message === job.status_label ? "" : job.message, // "Failed" beside a "Failed" badge
      error: job.error,
      canCancel: !!job.can_cancel,
    });
    if (FINAL[job.status] && !row.hasAttribute("data-done")) {
      row.setAttribute("data-done", "");
      announce((job.title || "Import") + ": " + (job.status_label || job.status) + ". " + (job.error || job.message || ""));
      if (job.status === "succeeded") refreshModels();
    }
  }

  function attachJob(row, job) {
    row.setAttribute("data-job-id", String(job.id));
    var newer = latest[job.id];
    renderJob(row, newer && Number(newer.seq) > Number(job.seq) ? newer : job);
  }

  function rowForJob(id) {
    if (!list) return null;
    return list.querySelector("[data-job-id='" + String(Number(id)) + "']");
  }

  Hearth.on("job", function (message) {
    var job = message && message.job;
    if (!job || !MODEL_KINDS[job.kind] || !Number.isInteger(job.id)) return;
    var previous = latest[job.id];
    if (!previous || Number(job.seq) >= Number(previous.seq)) latest[job.id] = job;
    var row = rowForJob(job.id);
    if (row) {
      renderJob(row, job);
    } else if (job.status === "succeeded") {
      refreshModels(); // e.g. a rescan started with the button in the page header
    }
  });

  // After a reconnect, events may have been missed: ask again for every job still shown as running.
  Hearth.on("socket:open", function (info) {
    if (list) {
      Array.prototype.forEach.call(list.querySelectorAll("[data-job-id]:not([data-done])"), function (row) {
        Hearth.send({ action: "job.get", id: Number(row.getAttribute("data-job-id")) });
      });
    }
    if (info && info.reconnect) refreshModels();
  });

  // Cancel and Dismiss in the import rows (members have no import card, so no rows).
  function onRowAction(event) {
    var form = event.target;
    var row = form.closest("[data-import-row]");
    if (!row) return;
    event.preventDefault();
    var action = form.getAttribute("data-row-action");
    if (action === "dismiss") {
      removeRow(row);
      return;
    }
    var xhr = uploads.get(row);
    if (xhr) {
      xhr.abort();
      return;
    }
    var id = row.getAttribute("data-job-id");
    if (!id) return;
    var url = (page.getAttribute("data-cancel-pattern") || "").replace(/\/0\/(?=[^/]*\/?$)/, "/" + id + "/");
    postJson(url, null).then(function (result) {
      if (result.data && result.data.job) renderJob(row, result.data.job);
    });
  }
  if (list) list.addEventListener("submit", onRowAction);

  /* ------------------------------------------------------- the model list */

  var refreshing = false;
  var refreshAgain = false;

  // Re-read the page and swap in its list of models; imports in progress stay as they are.
  function refreshModels() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    window
      .fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-models-body]");
        var current = page.querySelector("[data-models-body]");
        if (fresh && current) current.replaceWith(doc.adoptNode(fresh));
      })
      .catch(function () {
        /* the list stays as it was; a reload shows the new model */
      })
      .then(function () {
        refreshing = false;
        if (refreshAgain) {
          refreshAgain = false;
          refreshModels();
        }
      });
  }

  /* ---------------------------------------------------------------- posting */

  function postJson(url, body) {
    return window
      .fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": Hearth.csrfToken(uploadForm || pathForm), "X-Requested-With": "fetch" },
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

  function failureText(status, data, what) {
    if (data && data.error) return data.error;
    if (status === 0) return "Couldn't reach Hearth. Check your connection and try again.";
    if (status === 403) return "Hearth refused the " + what + ". Reload the page (you may have been signed out) and try again.";
    return "The " + what + " failed (the server answered " + status + "). Reload the page and try again.";
  }

  function busy(form, on) {
    var button = form.querySelector("button[type='submit']");
    if (!button) return;
    button.disabled = on;
    if (on) button.setAttribute("aria-busy", "true");
    else button.removeAttribute("aria-busy");
  }

  /* ---------------------------------------------------------------- upload */

  // The same checks and words as the server's gguf_header_check, on the file's first 24 bytes.
  function headerProblem(file) {
    if (!file.slice || !window.Blob || !Blob.prototype.arrayBuffer) return Promise.resolve("");
    return file
      .slice(0, 24)
      .arrayBuffer()
      .then(function (buffer) {
        if (buffer.byteLength < 24) return "The file is too short to be a GGUF model.";
        var bytes = new Uint8Array(buffer);
        for (var i = 0; i < 4; i += 1) {
          if (bytes[i] !== GGUF_MAGIC[i]) {
            return (
              "This is not a GGUF model file (it does not start with the GGUF signature). " +
              "Hearth runs llama.cpp models in GGUF format; convert other formats with llama.cpp's convert script."
            );
          }
        }
        var version = new DataView(buffer).getUint32(4, true);
        if (version !== 2 && version !== 3) return "GGUF version " + version + " is not supported (Hearth reads versions 2 and 3).";
        return "";
      })
      .catch(function () {
        return ""; // unreadable here: the server checks it anyway
      });
  }

  function upload(file) {
    var row = addRow("Import " + file.name);
    var xhr = new XMLHttpRequest();
    var sent = 0;
    uploads.set(row, xhr);
    render(row, { status: "uploading", label: "Uploading", fraction: 0, message: "Starting the upload", canCancel: true });

    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      sent = event.loaded / event.total;
      var done = event.loaded >= event.total;
      render(row, {
        status: "uploading",
        label: done ? "Checking" : "Uploading",
        fraction: done ? null : sent,
        message: done
          ? "Uploaded " + humanBytes(file.size) + "; the server is checking the file"
          : "Uploading: " + humanBytes(Math.min(file.size, event.loaded)) + " of " + humanBytes(file.size),
        canCancel: !done,
      });
    });
    xhr.addEventListener("load", function () {
      uploads.delete(row);
      var data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (error) {
        data = null;
      }
      if (xhr.status === 202 && data && data.job) {
        attachJob(row, data.job);
        uploadForm.reset();
      } else {
        var text = failureText(xhr.status, data, "upload");
        render(row, { status: "failed", label: "Refused", fraction: sent, error: text, canCancel: false });
        announce("Upload refused. " + text);
      }
    });
    xhr.addEventListener("error", function () {
      uploads.delete(row);
      render(row, {
        status: "failed",
        label: "Failed",
        fraction: sent,
        error: "The connection was lost during the upload, so nothing was kept. Try again.",
        canCancel: false,
      });
    });
    xhr.addEventListener("abort", function () {
      uploads.delete(row);
      render(row, { status: "cancelled", label: "Cancelled", fraction: sent, message: "Upload cancelled; nothing was kept.", canCancel: false });
    });
    xhr.open("POST", uploadForm.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", Hearth.csrfToken(uploadForm));
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    Hearth.sendFile(xhr, file);
  }

  if (uploadForm && list && template) {
    uploadForm.addEventListener("submit", function (event) {
      event.preventDefault();
      showError("");
      var input = uploadForm.querySelector("input[type='file']");
      var file = input.files && input.files[0];
      if (!file) {
        showError("Choose a .gguf model file to upload.");
        input.focus();
        return;
      }
      var limit = Number(uploadForm.getAttribute("data-max-bytes"));
      if (limit && file.size > limit) {
        showError(
          "This file is " + humanBytes(file.size) + ", more than the " + uploadForm.getAttribute("data-max-label") +
            " upload limit. If it is already on the computer Hearth runs on, import it by its path instead."
        );
        return;
      }
      busy(uploadForm, true);
      headerProblem(file).then(function (problem) {
        busy(uploadForm, false);
        if (problem) {
          showError(file.name + ": " + problem);
          return;
        }
        upload(file);
      });
    });
  }

  /* ------------------------------------------------------------ by path */

  if (pathForm && list && template) {
    pathForm.addEventListener("submit", function (event) {
      event.preventDefault();
      showError("");
      var input = pathForm.querySelector("input[name='path']");
      if (!input.value.trim()) {
        showError("Enter the full path of a .gguf file on this machine.");
        input.focus();
        return;
      }
      busy(pathForm, true);
      postJson(pathForm.action, new FormData(pathForm)).then(function (result) {
        busy(pathForm, false);
        if (result.data && result.data.job) {
          attachJob(addRow(result.data.job.title), result.data.job);
          pathForm.reset();
          input.removeAttribute("aria-invalid");
        } else {
          showError(failureText(result.status, result.data, "import"));
          input.setAttribute("aria-invalid", "true");
          input.focus();
        }
      });
    });
  }

  /* ----------------------------------------------- imports already running */

  var seed = doc.getElementById("model-import-jobs");
  if (seed && list && template) {
    try {
      JSON.parse(seed.textContent).forEach(function (job) {
        if (job && Number.isInteger(job.id)) attachJob(addRow(job.title), job);
      });
    } catch (error) {
      /* nothing to show */
    }
  }
})();
