// Progressive enhancement only: every page works without this file.
"use strict";
(function () {
  // Ask before an irreversible action.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.classList.contains("danger") && button.dataset.confirmed !== "yes") {
      var text = document.documentElement.lang === "ja" ? "よろしいですか？" : "Are you sure?";
      if (!window.confirm(text)) { event.preventDefault(); }
    }
  });
  // The pack footprint's trip: refresh the page while it is on its way.
  var ripple = document.getElementById("ripple");
  if (ripple && ripple.dataset.refresh === "on") {
    window.setTimeout(function () { window.location.reload(); }, 3000);
  }
  // Move focus to the first field the server refused, so keyboard and screen-reader users land on it.
  var invalid = document.querySelector("[aria-invalid='true']");
  if (invalid) { invalid.focus(); }
})();
