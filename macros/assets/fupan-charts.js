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
    if (!window.vegaEmbed || !window.vegaLite || !window.vega || !window.FUPAN) return;
    finalizeAll();
    var theme = window.FUPAN.themes[scheme()];
    var loc = locale() && window.FUPAN.locales[locale()];
    var nodes = document.querySelectorAll(".fupan-chart__view[data-spec]");
    Array.prototype.forEach.call(nodes, function (node) {
      var options = { actions: false, renderer: "svg", mode: "vega",
                      tooltip: { theme: scheme() === "dark" ? "dark" : "light" } };
      if (loc) { options.timeFormatLocale = loc.time; options.formatLocale = loc.number; }
      node.setAttribute("data-scheme", scheme());
      var compiled;
      try {
        compiled = compile(JSON.parse(node.getAttribute("data-spec")), theme);
      } catch (error) {
        fail(node, error);
        return;
      }
      window.vegaEmbed(node, compiled, options).then(function (result) {
        views.push(result);
        node.setAttribute("data-drawn", "true");
      }).catch(function (error) { fail(node, error); });
    });
  }

  // Vega-Lite → Vega here rather than inside vega-embed, to give the compiler a logger that
  // keeps layout notes (e.g. "Dropping fit-y" for bars sized per band) out of the console.
  function compile(spec, theme) {
    spec.config = theme;
    var logger = window.vega.logger(window.vega.Error);
    return window.vegaLite.compile(spec, { logger: logger }).spec;
  }

  function fail(node, error) {
    node.setAttribute("data-error", String(error));
    console.error("fupan chart " + node.parentNode.id + ": " + error);
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
