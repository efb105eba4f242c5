/* Sortable tables for .fupan-table.
 * One delegated click listener on the document: it keeps working on pages that Material's
 * instant navigation swaps in, without re-binding. Cells carry their raw value in
 * data-sort-value, so 1.2万 sorts above 9,000 and 10 above 9; text sorts with its numbers read as
 * numbers (2025年9月3日 before 2025年9月24日, 2025年9月 before 2025年10月). Rows without a value go last in
 * either direction. A table's CSV download is a plain link to a file written with the site (raw
 * values, built from the table's data), so it needs no script. */
(function () {
  "use strict";

  function sortValue(cell, numeric) {
    var raw = cell ? cell.getAttribute("data-sort-value") : null;
    if (raw === null || raw === "") return null;
    if (!numeric) return raw;
    var n = parseFloat(raw);
    return isNaN(n) ? null : n;
  }

  function sortBy(th) {
    var table = th.closest("table");
    var body = table && table.tBodies[0];
    if (!body) return;
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-type") === "number";
    var current = th.getAttribute("aria-sort");
    // First click: numbers largest first, text A→Z; then alternate.
    var ascending = current === "none" || !current ? !numeric : current !== "ascending";
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, i: i, v: sortValue(row.cells[index], numeric) };
    });
    rows.sort(function (a, b) {
      if (a.v === null || b.v === null) {
        if (a.v === null && b.v === null) return a.i - b.i;
        return a.v === null ? 1 : -1;
      }
      var d = numeric ? a.v - b.v : String(a.v).localeCompare(String(b.v), "zh-CN", { numeric: true });
      if (!ascending) d = -d;
      return d || a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(th.parentNode.children, function (other) {
      other.setAttribute("aria-sort", other === th ? (ascending ? "ascending" : "descending") : "none");
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    if (target.closest("a")) return;  // the header's link to the metric definition, the CSV link
    var th = target.closest(".fupan-table thead th");
    if (th) sortBy(th);
  });

  // Scroll cue: a table wrapper (Material's .md-typeset__scrollwrap) whose columns hide to the
  // right gets data-fupan-more, which fades that edge (fupan.css). Checked on every page Material
  // shows, when a wrapper scrolls and whenever its size changes (window, fonts, sorting).
  function markMore(wrap) {
    var more = wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft > 1;
    if (more) wrap.setAttribute("data-fupan-more", "right");
    else wrap.removeAttribute("data-fupan-more");
  }

  var resized = window.ResizeObserver ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { markMore(entry.target.closest(".md-typeset__scrollwrap")); });
  }) : null;

  function watchTables() {
    Array.prototype.forEach.call(document.querySelectorAll(".md-typeset table"), function (table) {
      var wrap = table.closest(".md-typeset__scrollwrap");
      if (!wrap || wrap.hasAttribute("data-fupan-watched")) return;
      wrap.setAttribute("data-fupan-watched", "");
      wrap.addEventListener("scroll", function () { markMore(wrap); }, { passive: true });
      if (resized) { resized.observe(wrap); resized.observe(table); }
      markMore(wrap);
    });
  }

  // Material wraps the tables while it mounts a page: look once it has.
  function onPage() { window.requestAnimationFrame(watchTables); }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(onPage);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onPage);
  } else {
    onPage();
  }
  window.addEventListener("load", watchTables);

  window.fupanTables = { sort: sortBy };
})();
