/* The Models page's file browser (models/browse.html): the Import button counts the ticked models, and
   pressing it with none ticked says so here instead of a round trip. Without JavaScript the form posts
   as it is and the server gives the same answer. */
import { $, $all, announce } from "./lib.js";

const form = $("[data-browse-form]");
const button = form && $("[data-browse-import]", form);
const label = button && $("span", button);

function ticked() {
  return $all("input[name='path']:checked", form).length;
}

function update() {
  const count = ticked();
  label.textContent = count > 1 ? `Import ${count} selected` : "Import selected";
}

function showError(text) {
  const box = $("[data-browse-pick-error]", form);
  box.hidden = !text;
  $("p", box).textContent = text;
}

if (form && label) {
  form.addEventListener("change", () => {
    update();
    if (ticked()) showError("");
  });
  form.addEventListener("submit", (event) => {
    if (ticked()) return;
    event.preventDefault();
    const text = "Tick at least one model file to import.";
    showError(text);
    announce(text);
    $("input[name='path']", form)?.focus();
  });
  update();
}
