/* Hearth's page shell, on every signed-in page: theme, navigation drawer, flash messages,
   confirmations, forms that start a job, and a toast when a job started here ends elsewhere.
   The Jobs page's live list is jobs.js; what pages share is lib.js.

   window.Hearth stays for the browser tests and the console: {on, off, send, connected, toast, csrfToken}. */
import { $, $all, on, off, send, connected, connect, toast, csrfToken, submitJobForm } from "./lib.js";

const doc = document;
const root = doc.documentElement;
const body = doc.body;

/* ------------------------------------------------------------------ theme */

const THEME_KEY = "hearth-theme";
const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");

function storedTheme() {
  try {
    const value = window.localStorage.getItem(THEME_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch (error) {
    return "system";
  }
}

function effectiveTheme() {
  const stored = storedTheme();
  if (stored !== "system") return stored;
  return darkQuery.matches ? "dark" : "light";
}

function syncThemeControls() {
  const label = `Switch to ${effectiveTheme() === "dark" ? "light" : "dark"} theme`;
  for (const button of $all("[data-theme-toggle]")) {
    button.setAttribute("aria-label", label);
    button.setAttribute("title", label);
    button.hidden = false;
  }
  const stored = storedTheme();
  for (const input of $all("input[data-theme-choice]")) {
    input.checked = input.value === stored;
    input.disabled = false;
  }
}

function applyTheme(choice) {
  if (choice === "light" || choice === "dark") root.setAttribute("data-theme", choice);
  else root.removeAttribute("data-theme");
  syncThemeControls();
}

function setTheme(choice) {
  try {
    if (choice === "light" || choice === "dark") window.localStorage.setItem(THEME_KEY, choice);
    else window.localStorage.removeItem(THEME_KEY);
  } catch (error) {
    /* not persisted, still applied to this page */
  }
  applyTheme(choice);
}

doc.addEventListener("click", (event) => {
  if (event.target.closest("[data-theme-toggle]")) setTheme(effectiveTheme() === "dark" ? "light" : "dark");
});
doc.addEventListener("change", (event) => {
  const input = event.target;
  if (input.matches?.("input[data-theme-choice]") && input.checked) setTheme(input.value);
});
darkQuery.addEventListener("change", syncThemeControls);
window.addEventListener("storage", (event) => {
  if (event.key === THEME_KEY) applyTheme(storedTheme());
});
syncThemeControls();

/* ------------------------------------------------------- navigation drawer */

const navToggle = $("[data-nav-toggle]");
const sidebar = $("#sidebar");
const backdrop = $("[data-nav-backdrop]");
const wideQuery = window.matchMedia("(min-width: 60rem)");
let navOpen = false;

const setInert = (element, value) => element?.toggleAttribute("inert", value);

function setNav(open, { keepFocus = false } = {}) {
  const wasOpen = navOpen;
  navOpen = open && !wideQuery.matches;
  body.classList.toggle("nav-open", navOpen);
  navToggle.setAttribute("aria-expanded", String(navOpen));
  if (backdrop) backdrop.hidden = !navOpen;
  setInert(sidebar, !wideQuery.matches && !navOpen);
  for (const element of $all("[data-behind-drawer]")) setInert(element, navOpen);
  if (navOpen && !wasOpen) {
    ($("[aria-current='page']", sidebar) || $("a, button", sidebar))?.focus();
  } else if (!navOpen && wasOpen && !keepFocus) {
    navToggle.focus();
  }
}

if (navToggle && sidebar) {
  navToggle.hidden = false;
  navToggle.addEventListener("click", () => setNav(!navOpen));
  for (const button of $all("[data-nav-close]")) button.addEventListener("click", () => setNav(false));
  backdrop?.addEventListener("click", () => setNav(false));
  doc.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && navOpen) {
      event.preventDefault();
      setNav(false);
    }
  });
  wideQuery.addEventListener("change", () => setNav(false, { keepFocus: true }));
  setNav(false, { keepFocus: true });
  body.classList.add("nav-ready");
}

/* ---------------------------------------------------------- flash messages */

for (const button of $all("[data-dismiss]")) button.hidden = false;
doc.addEventListener("click", (event) => {
  const flash = event.target.closest("[data-dismiss]")?.closest("[data-flash]");
  if (!flash) return;
  const next = flash.nextElementSibling || flash.previousElementSibling;
  const stack = flash.parentElement;
  flash.remove();
  const nextButton = next && $("[data-dismiss]", next);
  if (nextButton) {
    nextButton.focus();
  } else {
    if (stack && !stack.children.length) stack.remove();
    $("#main")?.focus({ preventScroll: true });
  }
});

/* ------------------------------------------------------------ confirmations */

doc.addEventListener(
  "submit",
  (event) => {
    const question = event.target.getAttribute?.("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true
);

/* ----------------------------------------------- jobs started and finished */

const FINAL = new Set(["succeeded", "failed", "cancelled"]);
const seenJobs = new Map(); // id -> {seq, status}
const jobsUrl = () => body.getAttribute("data-jobs-url") || "/jobs/";

// A toast when a job this page saw running ends; not for chat answers or push-to-talk, nor on pages that show jobs inline.
on("job", ({ job } = {}) => {
  if (!job || !Number.isInteger(job.id)) return;
  const seen = seenJobs.get(job.id);
  if (seen && Number(job.seq) <= seen.seq) return;
  seenJobs.set(job.id, { seq: Number(job.seq) || 0, status: job.status });
  if ((seen && FINAL.has(seen.status)) || job.kind === "chat" || job.kind === "voice_dictate") return;
  if ($(`[data-job-id="${job.id}"], [data-inline-jobs]`)) return;
  const name = job.title || "A job";
  const link = { href: jobsUrl(), linkText: "View jobs" };
  if (job.status === "succeeded") toast({ tone: "success", title: `${name} finished`, text: job.message, ...link });
  else if (job.status === "failed") toast({ tone: "error", title: `${name} failed`, text: job.error || job.message, ...link });
});

// Forms that start a job (data-job-form) post in the background and say so in a toast. The Jobs page
// (jobs.js) handles its own forms first, and this one then sees the event already handled.
doc.addEventListener("submit", async (event) => {
  if (event.defaultPrevented || !event.target.matches?.("form[data-job-form]")) return;
  const job = await submitJobForm(event);
  if (!job) return;
  seenJobs.set(job.id, { seq: Number(job.seq) || 0, status: job.status });
  toast({
    tone: "info",
    title: `${job.title || "Job"} started`,
    text: "It runs in the background; you'll see a note here when it's done.",
    href: jobsUrl(),
    linkText: "Follow it on the Jobs page",
  });
});

/* ------------------------------------------------------------------ start */

window.Hearth = Object.freeze({ on, off, send, connected, toast, csrfToken });
// After every page script has subscribed (module scripts all run before DOMContentLoaded).
doc.addEventListener("DOMContentLoaded", connect);
