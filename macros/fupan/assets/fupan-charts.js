/* Draws every .fupan-chart on the page with vega-embed, loading the Vega runtime lazily.
 * Every figure first shows its static SVG (rendered at build time), so a page needs no Vega to
 * be read. The runtime (~300 KB gzipped) is loaded the first time the reader interacts with a
 * chart (pointer, touch or keyboard focus), when the page is in dark mode (the static SVGs are
 * light) or when the palette is toggled; once loaded, every chart of this and later pages is
 * drawn live, with tooltips.
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
  var loading = null;
  var here = (document.currentScript && document.currentScript.src) || document.baseURI;

  function ensureVega() {
    if (window.vegaEmbed) return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = new URL("vendor/vega-bundle.js", here).href;
        script.onload = resolve;
        script.onerror = function () { loading = null; reject(new Error("cannot load " + script.src)); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function requestDraw() {
    if (!document.querySelector(".fupan-chart__view[data-spec]")) return;
    ensureVega().then(drawAll).catch(function (error) { console.error("fupan charts: " + error); });
  }

  function onPage() {
    // Draw right away when the runtime is already here (a later page) or in dark mode.
    if (window.vegaEmbed || scheme() === "dark") requestDraw();
  }

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  function locale() {
    var lang = (document.documentElement.getAttribute("lang") || "zh").toLowerCase();
    return lang.indexOf("zh") === 0 ? "zh-CN" : null;
  }

  // Phones: a chart narrower than this gets slightly smaller text and a legend that wraps into
  // rows of three (a one-row legend of six categories ran off the right edge).
  var NARROW = 480;

  function compact(theme) {
    var config = JSON.parse(JSON.stringify(theme));
    function merge(key, values) {
      config[key] = config[key] || {};
      for (var name in values) config[key][name] = values[name];
    }
    merge("legend", { columns: 3, labelFontSize: 11, symbolSize: 60, columnPadding: 10,
                      rowPadding: 4, labelLimit: 100 });
    merge("axis", { labelFontSize: 10, titleFontSize: 11 });
    merge("text", { fontSize: 10 });
    return config;
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
      spec.config = node.clientWidth && node.clientWidth < NARROW ? compact(theme) : theme;
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
    window.document$.subscribe(onPage);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onPage);
  } else {
    onPage();
  }

  // The first interaction with any chart loads the runtime (event delegation survives
  // Material's content swaps).
  ["pointerover", "touchstart", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (!window.vegaEmbed && event.target && event.target.closest && event.target.closest(".fupan-chart")) {
        requestDraw();
      }
    }, { passive: true });
  });

  // Palette toggle: Material sets data-md-color-scheme on <body>.
  new MutationObserver(function (changes) {
    for (var i = 0; i < changes.length; i++) {
      if (changes[i].attributeName === "data-md-color-scheme") { requestDraw(); return; }
    }
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
})();
