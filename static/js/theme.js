/* Loaded in <head> without defer so the chosen theme applies before the first paint.
   Keep it tiny: everything else lives in hearth.js. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var theme = window.localStorage.getItem("hearth-theme");
    if (theme === "light" || theme === "dark") {
      root.setAttribute("data-theme", theme);
    }
  } catch (e) {
    /* storage blocked: follow the system setting */
  }
})();
