// The bulk finalize job page: polls progress.json until the job is done or failed, then reloads once
// (if the page was rendered while it ran) to list each invoice with its new number.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("bulk-job");
    if (!root) { return; }
    var url = root.dataset.progressUrl;
    var renderedFinished = root.dataset.finished === "true";
    function show(id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } }
    function poll() {
      fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
        .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
        .then(function (p) {
          var done = p.finalized + p.closed + p.refused;
          show("job-status", p.status);
          show("job-done", done);
          show("job-total", p.total);
          show("job-finalized", p.finalized);
          show("job-closed", p.closed);
          show("job-refused", p.refused);
          show("job-left", p.left);
          var bar = document.getElementById("job-bar");
          if (bar) { bar.max = p.total; bar.value = done; }
          var error = document.getElementById("job-error");
          if (error && p.error) { error.textContent = p.error; error.hidden = false; }
          root.dataset.status = p.status;
          if (p.finished) {
            if (!renderedFinished) { window.location.reload(); }
            return;
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
