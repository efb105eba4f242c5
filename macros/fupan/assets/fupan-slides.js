/* The slide deck's controls (slides/index.html; the slides come from site/slides.py).
 * One slide at a time, scaled from its 1280×720 layout to the window. Keys: → ↓ PageDown Space
 * Enter next, ← ↑ PageUp Shift+Space Backspace previous, Home/End first/last, F full screen,
 * N presenter view (the slide, the next one and the writers' notes), B or . a black screen. A click on the left quarter
 * goes back, elsewhere forward; a swipe turns too. The URL's hash (#7) is the slide, so a reload
 * stays on it. The colours follow the site's palette choice (Material keeps it in localStorage),
 * else the system's. */
(function () {
  "use strict";
  var W = 1280, H = 720, BAR = 56, GAP = 24;
  var body = document.body;
  var deck = document.querySelector(".fupan-deck");
  if (!deck) return;
  var slides = Array.prototype.slice.call(deck.querySelectorAll(".fupan-slide"));
  if (!slides.length) return;
  var counter = document.querySelector(".fupan-deck__counter");
  var presenter = document.querySelector(".fupan-deck__presenter");
  var nextBox = document.querySelector(".fupan-deck__next");
  var notesBox = document.querySelector(".fupan-deck__notes");
  var notesButton = document.querySelector(".fupan-deck__notes-button");
  var current = 0;

  function scheme() {
    try {
      var key = new URL("..", location.href).pathname + ".__palette";
      var saved = JSON.parse(localStorage.getItem(key) || "null");
      if (saved && saved.color && saved.color.scheme) return saved.color.scheme === "slate" ? "dark" : "light";
    } catch (e) { /* storage unavailable (file://, privacy settings): the system decides */ }
    return window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function clamp(i) { return Math.max(0, Math.min(slides.length - 1, i)); }

  function fromHash() {
    var m = /^#(\d+)$/.exec(location.hash);
    return m ? clamp(parseInt(m[1], 10) - 1) : 0;
  }

  function presenting() { return body.classList.contains("is-notes"); }

  function layout() {
    var gap = presenting() ? GAP : 0;
    var areaW = (presenting() ? Math.round(window.innerWidth * 0.62) : window.innerWidth) - 2 * gap;
    var areaH = window.innerHeight - (presenting() ? BAR : 0) - 2 * gap;
    var scale = Math.min(areaW / W, areaH / H);
    var x = gap + (areaW - W * scale) / 2, y = gap + (areaH - H * scale) / 2;
    deck.style.transform = "translate(" + x + "px," + y + "px) scale(" + scale + ")";
    if (presenting()) showNext();
  }

  function showNext() {
    nextBox.textContent = "";
    var next = slides[current + 1];
    var width = nextBox.clientWidth;
    nextBox.style.height = next ? Math.round(width * H / W) + "px" : "0";
    if (!next) return;
    var frame = document.createElement("div");
    frame.className = "fupan-deck__frame";
    var copy = next.cloneNode(true);
    copy.removeAttribute("id");
    copy.setAttribute("aria-hidden", "true");
    copy.classList.add("is-current");
    frame.appendChild(copy);
    frame.style.transform = "scale(" + width / W + ")";
    nextBox.appendChild(frame);
  }

  function show(i) {
    current = clamp(i);
    slides.forEach(function (slide, k) {
      var on = k === current;
      slide.classList.toggle("is-current", on);
      if (on) slide.removeAttribute("aria-hidden"); else slide.setAttribute("aria-hidden", "true");
    });
    counter.textContent = (current + 1) + " / " + slides.length;
    var hash = "#" + (current + 1);
    if (location.hash !== hash) history.replaceState(null, "", hash);
    var notes = slides[current].querySelector(".fupan-slide__notes");
    notesBox.innerHTML = notes ? notes.innerHTML : "";
    if (presenting()) showNext();
  }

  function go(step) { show(current + step); }

  // The presenter's clock: time since the presenter view was first opened.
  var started = null, ticking = null;
  var clock = document.querySelector(".fupan-deck__clock");

  function tick() {
    var seconds = Math.floor((Date.now() - started) / 1000);
    var minutes = Math.floor(seconds / 60);
    var hours = Math.floor(minutes / 60);
    var mm = hours ? String(minutes % 60).padStart(2, "0") : String(minutes);
    clock.textContent = (hours ? hours + ":" : "") + mm + ":" + String(seconds % 60).padStart(2, "0");
  }

  function toggleNotes() {
    var on = !presenting();
    if (on && started === null) started = Date.now();
    if (on && !ticking) { tick(); ticking = setInterval(tick, 1000); }
    if (!on && ticking) { clearInterval(ticking); ticking = null; }
    body.classList.toggle("is-notes", on);
    presenter.hidden = !on;
    notesButton.setAttribute("aria-pressed", on ? "true" : "false");
    layout();
  }

  function toggleFullscreen() {
    var root = document.documentElement;
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(function () {});
    } else if (root.requestFullscreen) {
      root.requestFullscreen().catch(function () {});
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    var onControl = event.target && event.target.closest && event.target.closest("button, a");
    if (onControl && (key === "Enter" || key === " ")) return;  // the control's own action
    if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown" || key === "Enter" ||
        (key === " " && !event.shiftKey)) go(1);
    else if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp" || key === "Backspace" ||
             (key === " " && event.shiftKey)) go(-1);
    else if (key === "Home") show(0);
    else if (key === "End") show(slides.length - 1);
    else if (key === "f" || key === "F") toggleFullscreen();
    else if (key === "n" || key === "N") toggleNotes();
    else if (key === "b" || key === "B" || key === ".") body.classList.toggle("is-blank");
    else return;
    event.preventDefault();
  });

  var swipe = null;
  document.addEventListener("pointerdown", function (event) {
    swipe = event.pointerType === "mouse" ? null : { x: event.clientX, y: event.clientY };
  });
  document.addEventListener("pointerup", function (event) {
    if (!swipe) return;
    var dx = event.clientX - swipe.x, dy = event.clientY - swipe.y;
    swipe = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy)) {
      go(dx < 0 ? 1 : -1);
      swipe = "turned";  // the click that follows is not another turn
    }
  });

  document.addEventListener("click", function (event) {
    if (swipe === "turned") { swipe = null; return; }
    var target = event.target;
    if (target.closest && target.closest(".fupan-deck__bar, .fupan-deck__presenter, a")) return;
    if (presenting() && event.clientX > window.innerWidth * 0.62) return;
    go(event.clientX < window.innerWidth * 0.25 ? -1 : 1);
  });

  document.querySelector(".fupan-deck__prev").addEventListener("click", function () { go(-1); });
  document.querySelector(".fupan-deck__next-button").addEventListener("click", function () { go(1); });
  notesButton.addEventListener("click", toggleNotes);
  document.querySelector(".fupan-deck__full-button").addEventListener("click", toggleFullscreen);
  window.addEventListener("hashchange", function () { show(fromHash()); });
  window.addEventListener("resize", layout);
  document.addEventListener("fullscreenchange", layout);

  body.setAttribute("data-scheme", scheme());
  body.classList.add("is-live");
  notesButton.setAttribute("aria-pressed", "false");
  show(fromHash());
  layout();
})();
