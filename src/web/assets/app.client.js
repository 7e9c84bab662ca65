// claude-jobs dashboard client: the little the server cannot do. Served as a
// file (the CSP allows no inline script). Confirmations, bulk selection, the
// job list's live refresh (keeps its length, pauses while you select), the
// live output tail (server-sent events), and error toasts.
(function () {
  "use strict";

  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  // Confirm destructive actions: a form's or its clicked button's data-confirm.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  function selected() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="ids"]:checked'));
  }

  function refreshSelection() {
    var count = selected().length;
    var label = document.querySelector("[data-selected-count]");
    if (label) label.textContent = count ? count + " selected" : "Select jobs for bulk actions, or act on all that match.";
    document.querySelectorAll("[data-needs-selection]").forEach(function (b) { b.disabled = count === 0; });
  }

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches && t.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = t.checked; });
    }
    refreshSelection();
  });

  // The live job list: ask for as many rows as are shown (so "Load more" pages
  // stay), and skip a refresh while jobs are selected (it would clear them).
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-live-rows")) {
      var rows = elt.querySelectorAll("tr[data-job-id]").length;
      event.detail.parameters.limit = String(Math.min(500, Math.max(50, rows)));
    }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-live-rows") && selected().length > 0) event.preventDefault();
  });
  document.addEventListener("htmx:afterSwap", refreshSelection);

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    toast((xhr && xhr.responseText) || "The server refused that request.");
  });
  document.addEventListener("htmx:sendError", function () { toast("Cannot reach the dashboard; retrying."); });

  // The live output of a running job: one EventSource, items appended as the
  // server renders them (escaped there), scrolled along while at the bottom.
  function startTail(box) {
    var items = box.querySelector("[data-log-items]");
    var state = box.querySelector("[data-log-state]");
    var source = new EventSource(box.getAttribute("data-log-src"));
    source.addEventListener("open", function () { state.textContent = "Following the output live."; });
    source.addEventListener("line", function (event) {
      var data = JSON.parse(event.data);
      var atBottom = items.scrollHeight - items.scrollTop - items.clientHeight < 40;
      items.insertAdjacentHTML("beforeend", data.html);
      if (atBottom) items.scrollTop = items.scrollHeight;
    });
    source.addEventListener("end", function (event) {
      source.close();
      state.textContent = "The run ended. Reload the page for the stored output.";
      try { if (JSON.parse(event.data).reason) state.textContent += " (" + JSON.parse(event.data).reason + ")"; } catch (e) { /* keep the text */ }
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) state.textContent = "The live output stopped.";
    });
  }

  function init() {
    document.querySelectorAll("[data-log-src]").forEach(startTail);
    refreshSelection();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
