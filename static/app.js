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
    // A real modal: the page behind is inert, Escape closes it.
    var d = e.detail.target.querySelector("dialog");
    if (d && typeof d.showModal === "function") {
      // Opened by its markup (for pages without JavaScript): reopen as a modal
      // without close(), whose queued "close" event would empty it again.
      d.removeAttribute("open");
      d.showModal();
      d.addEventListener("close", closeDialog);
    }
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
  if (!dialog || !dialog.firstChild) return;
  dialog.innerHTML = "";
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
// Transfer target type-ahead (an ARIA combobox): arrows move through the
// suggestions, Enter or a click takes one, Escape closes the list. Without
// JavaScript the field is a plain email field.
(function () {
  function listFor(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }
  function options(list) {
    return Array.prototype.slice.call(list.querySelectorAll('[role="option"]:not([aria-disabled="true"])'));
  }
  function choose(input, option) {
    input.value = option.getAttribute("data-email");
    // The dialog's "what the target will own afterwards" listens for it.
    input.dispatchEvent(new Event("change", { bubbles: true }));
    var list = listFor(input);
    list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  document.addEventListener("htmx:afterSwap", function (e) {
    var list = e.detail.target;
    if (!list || list.getAttribute("role") !== "listbox") return;
    var input = document.querySelector('[aria-controls="' + list.id + '"]');
    if (input) input.setAttribute("aria-expanded", list.children.length > 0 ? "true" : "false");
  });
  document.addEventListener("keydown", function (e) {
    var input = e.target;
    if (!input || input.getAttribute("role") !== "combobox") return;
    var list = listFor(input);
    var opts = options(list);
    if (!opts.length) return;
    var current = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    var i = opts.indexOf(current);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      i = e.key === "ArrowDown" ? Math.min(i + 1, opts.length - 1) : Math.max(i - 1, 0);
      opts.forEach(function (o) { o.removeAttribute("aria-selected"); });
      opts[i].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", opts[i].id);
    } else if (e.key === "Enter" && current) {
      e.preventDefault();
      choose(input, current);
    } else if (e.key === "Escape") {
      list.innerHTML = "";
      input.setAttribute("aria-expanded", "false");
    }
  });
  document.addEventListener("click", function (e) {
    var option = e.target.closest && e.target.closest('[role="option"]');
    if (!option || option.getAttribute("aria-disabled") === "true") return;
    var list = option.closest('[role="listbox"]');
    var input = list && document.querySelector('[aria-controls="' + list.id + '"]');
    if (input) choose(input, option);
  });
})();
// The status tabs swap the table only: keep the filter form's status in step,
// so the next search stays on the chosen tab.
document.addEventListener("htmx:afterSwap", function (e) {
  if (!e.detail.target || e.detail.target.id !== "users-table") return;
  var current = document.querySelector('#users-table [data-status-tab][aria-current="page"]');
  var select = document.getElementById("status");
  if (current && select) {
    var key = current.getAttribute("data-status-tab");
    select.value = key === "all" ? "" : key;
  }
});
// The More menu is a menu button: aria-expanded follows it, ArrowDown on the
// button opens it at its first item, arrows, Home and End move between the
// items. Without JavaScript it is a plain disclosure (<details>).
document.addEventListener("toggle", function (e) {
  var d = e.target;
  if (!d.classList || !d.classList.contains("more-menu")) return;
  var s = d.querySelector("summary");
  if (s) s.setAttribute("aria-expanded", d.open ? "true" : "false");
}, true);
document.addEventListener("keydown", function (e) {
  var d = e.target.closest && e.target.closest("details.more-menu");
  if (!d || ["ArrowDown", "ArrowUp", "Home", "End"].indexOf(e.key) < 0) return;
  var items = Array.prototype.slice.call(d.querySelectorAll('[role="menuitem"]'));
  if (!items.length) return;
  e.preventDefault();
  if (!d.open) d.open = true;
  var i = items.indexOf(document.activeElement);
  if (e.key === "Home" || (i < 0 && e.key === "ArrowDown")) i = 0;
  else if (e.key === "End" || (i < 0 && e.key === "ArrowUp")) i = items.length - 1;
  else i = e.key === "ArrowDown" ? (i + 1) % items.length : (i - 1 + items.length) % items.length;
  items[i].focus();
});
