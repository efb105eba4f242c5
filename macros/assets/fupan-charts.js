/* Draws every .fupan-chart on the page with vega-embed.
 * Each figure also holds the chart as a static SVG rendered at build time: it shows until the
 * live chart has drawn (data-drawn=true; CSS then hides it), when drawing fails, without
 * JavaScript, and in print.
 * Material's instant navigation swaps page content without running inline scripts, so charts
 * are drawn on each emission of Material's `document$` (falling back to DOMContentLoaded when
 * opened from disk), and re-drawn in the other theme when the palette toggle changes the
 * scheme. Views of the previous page are finalized to free their listeners. */
(function () {
  "use strict";
  var views = [];

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  function locale() {
    var lang = (document.documentElement.getAttribute("lang") || "zh").toLowerCase();
    return lang.indexOf("zh") === 0 ? "zh-CN" : null;
  }

  function finalizeAll() {
    while (views.length) {
      try { views.pop().finalize(); } catch (e) { /* already gone */ }
    }
  }

  function drawAll() {
    if (!window.vegaEmbed || !window.FUPAN) return;
    finalizeAll();
    var theme = window.FUPAN.themes[scheme()];
    var loc = locale() && window.FUPAN.locales[locale()];
    var nodes = document.querySelectorAll(".fupan-chart__view[data-spec]");
    Array.prototype.forEach.call(nodes, function (node) {
      var spec = JSON.parse(node.getAttribute("data-spec"));
      spec.config = theme;
      var options = { actions: false, renderer: "svg", mode: "vega-lite",
                      tooltip: { theme: scheme() === "dark" ? "dark" : "light" } };
      if (loc) { options.timeFormatLocale = loc.time; options.formatLocale = loc.number; }
      node.setAttribute("data-scheme", scheme());
      window.vegaEmbed(node, spec, options).then(function (result) {
        views.push(result);
        node.setAttribute("data-drawn", "true");
      }).catch(function (error) {
        node.setAttribute("data-error", String(error));
        console.error("fupan chart " + node.parentNode.id + ": " + error);
      });
    });
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(drawAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }

  // Palette toggle: Material sets data-md-color-scheme on <body>.
  new MutationObserver(function (changes) {
    for (var i = 0; i < changes.length; i++) {
      if (changes[i].attributeName === "data-md-color-scheme") { drawAll(); return; }
    }
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
})();
