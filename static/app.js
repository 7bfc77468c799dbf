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
