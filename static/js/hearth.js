/* Hearth's page shell: theme, navigation drawer, messages, toasts, the events websocket and
   live job rows.

   The only global is window.Hearth, for page scripts loaded after this one (also with defer):

     Hearth.on(type, handler)   subscribe to websocket messages by their "type" ("job", "error", ...)
                                and to the connection events "socket:open" ({reconnect: bool}) and
                                "socket:close" ({code}). Returns a function that unsubscribes.
     Hearth.off(type, handler)
     Hearth.send(obj)           send one JSON message; returns false when the socket is not open
                                (listen for "socket:open" to resend or re-sync).
     Hearth.connected()         true while the socket is open.
     Hearth.toast(options)      {title, text, tone: "info"|"success"|"error", href, linkText, timeout}
     Hearth.csrfToken(form?)    the CSRF token, for fetch() POSTs.
     Hearth.sendFile(xhr, file) send an opened upload request with the file itself as the body (never a
                                multipart form, so the server streams it to disk unparsed).

   Server data is only ever put in the page with textContent, never as HTML. */
(function () {
  "use strict";

  var doc = document;
  var root = doc.documentElement;
  var body = doc.body;

  function $(selector, scope) {
    return (scope || doc).querySelector(selector);
  }
  function $all(selector, scope) {
    return Array.prototype.slice.call((scope || doc).querySelectorAll(selector));
  }

  /* ------------------------------------------------------------------ theme */

  var THEME_KEY = "hearth-theme";
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function storedTheme() {
    try {
      var value = window.localStorage.getItem(THEME_KEY);
      return value === "light" || value === "dark" ? value : "system";
    } catch (e) {
      return "system";
    }
  }

  function effectiveTheme() {
    var stored = storedTheme();
    if (stored !== "system") return stored;
    return darkQuery && darkQuery.matches ? "dark" : "light";
  }

  function applyTheme(choice) {
    if (choice === "light" || choice === "dark") {
      root.setAttribute("data-theme", choice);
    } else {
      root.removeAttribute("data-theme");
    }
    syncThemeControls();
  }

  function setTheme(choice) {
    try {
      if (choice === "light" || choice === "dark") {
        window.localStorage.setItem(THEME_KEY, choice);
      } else {
        window.localStorage.removeItem(THEME_KEY);
      }
    } catch (e) {
      /* not persisted, still applied to this page */
    }
    applyTheme(choice);
  }

  function syncThemeControls() {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    $all("[data-theme-toggle]").forEach(function (button) {
      var label = "Switch to " + next + " theme";
      button.setAttribute("aria-label", label);
      button.setAttribute("title", label);
      button.hidden = false;
    });
    var stored = storedTheme();
    $all("input[data-theme-choice]").forEach(function (input) {
      input.checked = input.value === stored;
      input.disabled = false;
    });
  }

  doc.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      setTheme(effectiveTheme() === "dark" ? "light" : "dark");
    }
  });
  doc.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[data-theme-choice]") && input.checked) {
      setTheme(input.value);
    }
  });
  if (darkQuery) {
    var onSchemeChange = function () {
      syncThemeControls();
    };
    if (darkQuery.addEventListener) darkQuery.addEventListener("change", onSchemeChange);
    else if (darkQuery.addListener) darkQuery.addListener(onSchemeChange);
  }
  window.addEventListener("storage", function (event) {
    if (event.key === THEME_KEY) applyTheme(storedTheme());
  });
  syncThemeControls();

  /* ------------------------------------------------------- navigation drawer */

  var navToggle = $("[data-nav-toggle]");
  var sidebar = $("#sidebar");
  var backdrop = $("[data-nav-backdrop]");
  var wideQuery = window.matchMedia("(min-width: 60rem)");
  var navOpen = false;

  function setInert(element, value) {
    if (!element) return;
    if (value) element.setAttribute("inert", "");
    else element.removeAttribute("inert");
  }

  function outsideDrawer() {
    return $all("[data-behind-drawer]");
  }

  function setNav(open, options) {
    if (!sidebar || !navToggle) return;
    var wasOpen = navOpen;
    navOpen = open && !wideQuery.matches;
    body.classList.toggle("nav-open", navOpen);
    navToggle.setAttribute("aria-expanded", String(navOpen));
    if (backdrop) backdrop.hidden = !navOpen;
    setInert(sidebar, !wideQuery.matches && !navOpen);
    outsideDrawer().forEach(function (element) {
      setInert(element, navOpen);
    });
    if (navOpen && !wasOpen) {
      var target = $("[aria-current='page']", sidebar) || $("a, button", sidebar);
      if (target) target.focus();
    } else if (!navOpen && wasOpen && !(options && options.keepFocus)) {
      navToggle.focus();
    }
  }

  if (navToggle && sidebar) {
    navToggle.hidden = false;
    navToggle.addEventListener("click", function () {
      setNav(!navOpen);
    });
    $all("[data-nav-close]").forEach(function (button) {
      button.addEventListener("click", function () {
        setNav(false);
      });
    });
    if (backdrop) {
      backdrop.addEventListener("click", function () {
        setNav(false);
      });
    }
    doc.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && navOpen) {
        event.preventDefault();
        setNav(false);
      }
    });
    var onWidthChange = function () {
      setNav(false, { keepFocus: true });
    };
    if (wideQuery.addEventListener) wideQuery.addEventListener("change", onWidthChange);
    else if (wideQuery.addListener) wideQuery.addListener(onWidthChange);
    setNav(false, { keepFocus: true });
    body.classList.add("nav-ready");
  }

  /* ---------------------------------------------------------- flash messages */

  function focusMain() {
    var main = $("#main");
    if (main) main.focus({ preventScroll: true });
  }

  $all("[data-dismiss]").forEach(function (button) {
    button.hidden = false;
  });
  doc.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (!button) return;
    var flash = button.closest("[data-flash]");
    if (!flash) return;
    var next = flash.nextElementSibling || flash.previousElementSibling;
    var stack = flash.parentElement;
    flash.remove();
    var nextButton = next && $("[data-dismiss]", next);
    if (nextButton) nextButton.focus();
    else {
      if (stack && !stack.children.length) stack.remove();
      focusMain();
    }
  });

  /* ------------------------------------------------------------------ toasts */

  var toastRegion = $("[data-toasts]");

  function icon(name) {
    var template = $("#icon-template");
    var svg;
    if (template) {
      svg = template.content.firstElementChild.cloneNode(true);
      var use = svg.querySelector("use");
      var href = use.getAttribute("href") || "";
      use.setAttribute("href", href.replace(/#.*$/, "") + "#" + name);
    } else {
      svg = doc.createElementNS("http://www.w3.org/2000/svg", "svg");
    }
    return svg;
  }

  function toast(options) {
    options = options || {};
    if (!toastRegion) {
      toastRegion = doc.createElement("div");
      toastRegion.className = "toasts";
      toastRegion.setAttribute("aria-live", "polite");
      body.appendChild(toastRegion);
    }
    var tone = ["success", "error", "info"].indexOf(options.tone) >= 0 ? options.tone : "info";
    var item = doc.createElement("div");
    item.className = "toast toast--" + tone;
    if (tone === "error") item.setAttribute("role", "alert"); // others are read by the polite region

    var glyph = icon(tone === "success" ? "check" : tone === "error" ? "alert" : "info");
    glyph.classList.add("toast__icon");
    item.appendChild(glyph);

    var content = doc.createElement("div");
    content.className = "toast__body";
    if (options.title) {
      var title = doc.createElement("p");
      title.className = "toast__title";
      title.textContent = options.title;
      content.appendChild(title);
    }
    if (options.text) {
      var text = doc.createElement("p");
      text.className = "toast__text";
      text.textContent = options.text;
      content.appendChild(text);
    }
    if (options.href) {
      var link = doc.createElement("a");
      link.className = "toast__link";
      link.href = options.href;
      link.textContent = options.linkText || "Open";
      content.appendChild(link);
    }
    item.appendChild(content);

    var close = doc.createElement("button");
    close.type = "button";
    close.className = "icon-btn icon-btn--small toast__close";
    close.setAttribute("aria-label", "Dismiss notification");
    close.appendChild(icon("close"));
    item.appendChild(close);

    var timer = null;
    var remaining = typeof options.timeout === "number" ? options.timeout : tone === "error" ? 0 : 8000;
    var startedAt = 0;
    function dismiss() {
      clearTimeout(timer);
      item.classList.add("toast--leaving");
      window.setTimeout(function () {
        item.remove();
      }, 200);
    }
    function startTimer() {
      if (remaining <= 0) return;
      startedAt = Date.now();
      timer = window.setTimeout(dismiss, remaining);
    }
    function pauseTimer() {
      if (!timer) return;
      clearTimeout(timer);
      timer = null;
      remaining = Math.max(1500, remaining - (Date.now() - startedAt));
    }
    close.addEventListener("click", dismiss);
    item.addEventListener("mouseenter", pauseTimer);
    item.addEventListener("mouseleave", startTimer);
    item.addEventListener("focusin", pauseTimer);
    item.addEventListener("focusout", startTimer);

    toastRegion.appendChild(item);
    while (toastRegion.children.length > 4) toastRegion.firstElementChild.remove();
    startTimer();
    return dismiss;
  }

  var announcer = $("[data-announce]");
  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = text;
    }, 50);
  }

  /* -------------------------------------------------------------------- CSRF */

  function readCookie(name) {
    var parts = doc.cookie ? doc.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].trim();
      if (pair.indexOf(name + "=") === 0) return decodeURIComponent(pair.slice(name.length + 1));
    }
    return "";
  }

  function csrfToken(form) {
    var input = (form && $("input[name='csrfmiddlewaretoken']", form)) || $("input[name='csrfmiddlewaretoken']");
    // On the HTTPS port the CSRF cookie has a name of its own (assistant/https/cookies.py).
    var cookieName = window.location.protocol === "https:" ? "__Secure-csrftoken" : "csrftoken";
    return (input && input.value) || readCookie(cookieName);
  }

  // Uploads carry the file as the body and its name in a header: see assistant/core/uploads.py.
  function sendFile(xhr, file) {
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-Upload-Name", encodeURIComponent(file.name || "upload"));
    xhr.send(file);
  }

  /* -------------------------------------------------------- events websocket */

  var handlers = {};
  function on(type, handler) {
    if (typeof handler !== "function") return function () {};
    (handlers[type] = handlers[type] || []).push(handler);
    return function () {
      off(type, handler);
    };
  }
  function off(type, handler) {
    var list = handlers[type];
    if (!list) return;
    var index = list.indexOf(handler);
    if (index >= 0) list.splice(index, 1);
  }
  function emit(type, message) {
    (handlers[type] || []).slice().forEach(function (handler) {
      try {
        handler(message);
      } catch (error) {
        if (window.console) console.error(error);
      }
    });
  }

  var wsPath = body.getAttribute("data-ws-url");
  var loginUrl = body.getAttribute("data-login-url") || "/login/";
  var socket = null;
  var everOpened = false;
  var attempt = 0;
  var retryTimer = null;
  var indicatorTimer = null;
  var stopped = false;
  var leavingForLogin = false;
  var connIndicator = $("[data-conn]");

  function socketUrl() {
    var url = new URL(wsPath, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }

  function goToLogin() {
    if (leavingForLogin) return;
    leavingForLogin = true;
    stopped = true;
    var here = window.location.pathname + window.location.search + window.location.hash;
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(here));
  }

  function showIndicator(down) {
    clearTimeout(indicatorTimer);
    if (!connIndicator) return;
    if (!down) {
      connIndicator.hidden = true;
      return;
    }
    // A blip shorter than this never shows, so page loads and quick reconnects stay quiet.
    indicatorTimer = window.setTimeout(function () {
      if (!socket || socket.readyState !== WebSocket.OPEN) connIndicator.hidden = false;
    }, 1200);
  }

  /* A refused handshake reaches the browser as code 1006, not 4401: ask the server whether
     the session is still good, and go to the login page if it is not. */
  function checkSession() {
    if (!window.fetch) return;
    window
      .fetch(window.location.href, { method: "HEAD", redirect: "manual", cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401) goToLogin();
      })
      .catch(function () {
        /* server unreachable: keep retrying */
      });
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    var ceiling = Math.min(30000, 1000 * Math.pow(2, attempt));
    attempt += 1;
    var delay = ceiling / 2 + Math.random() * (ceiling / 2); // backoff with jitter
    retryTimer = window.setTimeout(connect, delay);
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (!wsPath || stopped) return;
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
    var opened = false;
    var current;
    try {
      current = new WebSocket(socketUrl());
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = current;
    current.addEventListener("open", function () {
      opened = true;
      var reconnect = everOpened;
      everOpened = true;
      attempt = 0;
      showIndicator(false);
      emit("socket:open", { reconnect: reconnect });
    });
    current.addEventListener("message", function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message && typeof message.type === "string" && message.type.indexOf("socket:") !== 0) {
        emit(message.type, message);
      }
    });
    current.addEventListener("close", function (event) {
      if (socket === current) socket = null;
      if (event.code === 4401) {
        goToLogin();
        return;
      }
      if (stopped) return;
      emit("socket:close", { code: event.code });
      showIndicator(true);
      if (!opened) checkSession();
      scheduleReconnect();
    });
  }

  function reconnectNow() {
    if (stopped || !wsPath) return;
    attempt = 0;
    connect();
  }

  function send(message) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  if (wsPath && "WebSocket" in window) {
    window.addEventListener("online", reconnectNow);
    doc.addEventListener("visibilitychange", function () {
      if (doc.visibilityState === "visible" && !socket) reconnectNow();
    });
    window.addEventListener("pagehide", function () {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(indicatorTimer);
      if (socket) socket.close(1000);
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        stopped = false;
        everOpened = true; // coming back from the history cache: re-sync like a reconnect
        reconnectNow();
      }
    });
    var retryButton = $("[data-conn-retry]");
    if (retryButton) retryButton.addEventListener("click", reconnectNow);
    connect();
  }

  /* --------------------------------------------------------------------- jobs */

  var FINAL = { succeeded: true, failed: true, cancelled: true };
  var KNOWN = { queued: true, running: true, succeeded: true, failed: true, cancelled: true };
  var jobsList = $("[data-jobs-list]");
  var rowTemplate = $("#job-row-template");
  var seenJobs = {}; // id -> {seq, status}, for toasts on pages without the list

  function isJob(job) {
    return job && typeof job === "object" && Number.isInteger(job.id) && typeof job.status === "string";
  }

  function statusClass(status) {
    return KNOWN[status] ? status : "unknown";
  }

  function rowFor(id) {
    return jobsList ? jobsList.querySelector("[data-job-id='" + String(Number(id)) + "']") : null;
  }

  function field(row, name) {
    return row.querySelector("[data-field='" + name + "']");
  }

  function setText(element, text) {
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  }

  function urlFor(pattern, id) {
    return pattern ? pattern.replace(/\/0\/(?=[^/]*\/?$)/, "/" + id + "/") : "";
  }

  function buildRow(job) {
    if (!rowTemplate) return null;
    var row = rowTemplate.content.firstElementChild.cloneNode(true);
    var id = String(job.id);
    row.setAttribute("data-job-id", id);
    row.setAttribute("data-seq", "-1");
    var title = field(row, "title");
    if (title) title.id = "job-" + id + "-title";
    var progress = field(row, "progress");
    if (progress) progress.setAttribute("aria-labelledby", "job-" + id + "-title");
    setText(field(row, "number"), "#" + id);
    $all("form[data-job-action]", row).forEach(function (form) {
      form.action = urlFor(form.getAttribute("data-url-pattern"), id);
    });
    return row;
  }

  function updateRow(row, job) {
    var previousSeq = Number(row.getAttribute("data-seq"));
    var seq = Number(job.seq);
    if (Number.isFinite(previousSeq) && Number.isFinite(seq) && seq < previousSeq) return false;
    var previousStatus = row.getAttribute("data-status");
    if (Number.isFinite(seq)) row.setAttribute("data-seq", String(seq));
    var status = statusClass(job.status);
    row.setAttribute("data-status", status);
    row.className = "job job--" + status;

    var title = field(row, "title");
    if (title && typeof job.title === "string" && job.title) title.textContent = job.title;

    var badge = field(row, "status");
    if (badge) {
      badge.textContent = job.status_label || job.status;
      badge.className = "badge badge--" + status;
    }

    var fraction = Math.max(0, Math.min(1, Number(job.progress) || 0));
    var percent = Math.round(fraction * 100);
    var progress = field(row, "progress");
    var indeterminate = status === "running" && fraction === 0;
    if (progress) {
      if (indeterminate) progress.removeAttribute("value");
      else progress.value = percent;
      progress.setAttribute("aria-valuetext", indeterminate ? "Starting" : percent + "%");
    }
    setText(field(row, "percent"), indeterminate ? "" : percent + "%");

    setText(field(row, "message"), typeof job.message === "string" ? job.message : "");
    var errorBox = field(row, "error-box");
    var errorText = field(row, "error");
    if (errorText) errorText.textContent = job.error || "";
    if (errorBox) errorBox.hidden = !job.error;

    var finished = field(row, "finished");
    if (FINAL[status] && previousStatus && !FINAL[previousStatus]) {
      setText(finished, "Finished just now");
    } else if (!FINAL[status] && finished) {
      setText(finished, "");
    }

    var active = doc.activeElement;
    var hadFocus = !!active && row.contains(active) && !!active.closest("form[data-job-action]");
    $all("form[data-job-action='cancel']", row).forEach(function (form) {
      form.hidden = !job.can_cancel;
    });
    $all("form[data-job-action='retry']", row).forEach(function (form) {
      form.hidden = !job.can_retry;
    });
    if (hadFocus && active.closest("form[hidden]")) {
      // The button that had focus went away (Cancel -> Retry): keep the keyboard user in the row.
      var next = $("form[data-job-action]:not([hidden]) button", row) || title;
      if (next) next.focus();
    }

    if (previousStatus && previousStatus !== status && FINAL[status]) {
      var name = job.title || "Job #" + job.id;
      announce(name + ": " + (job.status_label || status) + (job.error ? ". " + job.error : ""));
    }
    return true;
  }

  function showJobsList() {
    if (!jobsList) return;
    jobsList.hidden = false;
    $all("[data-jobs-empty]").forEach(function (element) {
      element.hidden = true;
    });
    $all("[data-jobs-when-any]").forEach(function (element) {
      element.hidden = false;
    });
  }

  function maybeToast(job) {
    var seen = seenJobs[job.id];
    if (seen && Number(job.seq) <= seen.seq) return;
    seenJobs[job.id] = { seq: Number(job.seq) || 0, status: job.status };
    var wasActive = !seen || !FINAL[seen.status];
    // Chat answers, and pages showing their own jobs inline, need no toast.
    if (!wasActive || job.kind === "chat" || document.querySelector('[data-job-id="' + job.id + '"], [data-inline-jobs]')) return;
    var name = job.title || "A job";
    var jobsUrl = body.getAttribute("data-jobs-url") || "/jobs/";
    if (job.status === "succeeded") {
      toast({ tone: "success", title: name + " finished", text: job.message, href: jobsUrl, linkText: "View jobs" });
    } else if (job.status === "failed") {
      toast({ tone: "error", title: name + " failed", text: job.error || job.message, href: jobsUrl, linkText: "View jobs" });
    }
  }

  function handleJob(job) {
    if (!isJob(job)) return;
    if (!jobsList) {
      maybeToast(job);
      return;
    }
    var row = rowFor(job.id);
    if (!row) {
      row = buildRow(job);
      if (!row) return;
      jobsList.insertBefore(row, jobsList.firstElementChild);
      showJobsList();
      row.classList.add("job--new");
    }
    updateRow(row, job);
  }

  on("job", function (message) {
    handleJob(message.job);
  });

  if (jobsList) {
    // Seed each row's last seen seq from the payloads the page was rendered with.
    var seed = $("#job-payloads");
    if (seed) {
      try {
        JSON.parse(seed.textContent).forEach(function (job) {
          var row = isJob(job) && rowFor(job.id);
          if (row) row.setAttribute("data-seq", String(Number(job.seq) || 0));
        });
      } catch (error) {
        /* rows keep their rendered state */
      }
    }
    // After any (re)connect, events may have been missed: ask for every shown job again.
    on("socket:open", function () {
      $all("[data-job-id]", jobsList).forEach(function (row) {
        var id = Number(row.getAttribute("data-job-id"));
        if (Number.isInteger(id)) send({ action: "job.get", id: id });
      });
    });
  }

  /* ------------------------------------------------------ forms: confirm, jobs */

  doc.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  doc.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches("form[data-job-form]") || !window.fetch) return;
    event.preventDefault();
    if (form.hasAttribute("data-busy")) return; // one request at a time per form
    form.setAttribute("data-busy", "");
    // Not `disabled`: a disabled button drops keyboard focus to <body>.
    var button = event.submitter || $("button[type='submit'], button:not([type])", form);
    if (button) {
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("aria-busy", "true");
    }
    var row = form.closest("[data-job-id]");
    window
      .fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form), "X-Requested-With": "fetch" },
      })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) {
          // Logged out, CSRF expired, or an error page: let the browser do it the plain way.
          HTMLFormElement.prototype.submit.call(form);
          return null;
        }
        return response.json();
      })
      .then(function (data) {
        if (!data || !isJob(data.job)) return;
        var job = data.job;
        if (jobsList) {
          handleJob(job);
          var target = rowFor(job.id);
          if (target && !row) {
            field(target, "title").focus(); // a new row: land on it, not on its Cancel button
          } else if (target && form.hidden) {
            var next = $("form[data-job-action]:not([hidden]) button", target) || field(target, "title");
            if (next) next.focus();
          }
        } else {
          seenJobs[job.id] = { seq: Number(job.seq) || 0, status: job.status };
          toast({
            tone: "info",
            title: (job.title || "Job") + " started",
            text: "It runs in the background; you'll see a note here when it's done.",
            href: body.getAttribute("data-jobs-url") || "/jobs/",
            linkText: "Follow it on the Jobs page",
          });
        }
      })
      .catch(function () {
        toast({ tone: "error", title: "Couldn't reach Hearth", text: "Check your connection and try again." });
      })
      .then(function () {
        form.removeAttribute("data-busy");
        if (button) {
          button.removeAttribute("aria-disabled");
          button.removeAttribute("aria-busy");
        }
      });
  });

  /* ------------------------------------------------------------------ public */

  window.Hearth = Object.freeze({
    on: on,
    off: off,
    send: send,
    connected: function () {
      return !!socket && socket.readyState === WebSocket.OPEN;
    },
    toast: toast,
    csrfToken: csrfToken,
    sendFile: sendFile,
  });
})();
