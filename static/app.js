// Select-all for the Users table; everything else is htmx or plain HTML.
document.addEventListener("change", function (e) {
  if (e.target && e.target.id === "select-all") {
    document.querySelectorAll('#users-table input[name="user_ids"]').forEach(function (box) {
      box.checked = e.target.checked;
    });
  }
});
// Escape closes an open More menu and gives focus back to its button.
document.addEventListener("keydown", function (e) {
  if (e.key !== "Escape") return;
  document.querySelectorAll("details.more-menu[open]").forEach(function (d) {
    d.removeAttribute("open");
    var s = d.querySelector("summary");
    if (s) s.focus();
  });
});
// Dialogs loaded by htmx into #dialog: focus moves in, Escape or Cancel closes
// them and gives focus back to the row's More button.
var lastMenu = null;
document.addEventListener("htmx:afterSwap", function (e) {
  if (e.detail.target && e.detail.target.id === "dialog") {
    var first = e.detail.target.querySelector("input:not([type=hidden]), select, button, a");
    if (first) first.focus();
  }
});
document.addEventListener("click", function (e) {
  var item = e.target.closest && e.target.closest("details.more-menu a");
  if (item) {
    var d = item.closest("details");
    lastMenu = d.querySelector("summary");
    d.removeAttribute("open");
  }
  var close = e.target.closest && e.target.closest("#dialog [data-dialog-close]");
  if (close && document.getElementById("users-table")) {
    e.preventDefault();
    closeDialog();
  }
});
function closeDialog() {
  var dialog = document.getElementById("dialog");
  if (dialog) dialog.innerHTML = "";
  if (lastMenu && document.body.contains(lastMenu)) lastMenu.focus();
}
document.addEventListener("keydown", function (e) {
  if (e.key === "Escape" && document.querySelector("#dialog [role=dialog]") && document.getElementById("users-table")) {
    closeDialog();
  }
});
// Import: the sample and the upload wait until an action is chosen.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-import]");
  if (!form) return;
  var sync = function () {
    var chosen = !!form.querySelector('input[name="action"]:checked');
    form.querySelectorAll("[data-needs-action]").forEach(function (el) { el.disabled = !chosen; });
  };
  form.addEventListener("change", sync);
  sync();
});
