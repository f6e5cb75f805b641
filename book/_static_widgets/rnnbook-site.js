// Keyboard access to the site's own scroll containers: a figure, an output or an equation that
// is wider than its column (on a phone) takes Tab focus, so that it can be scrolled with the
// arrow keys; one that fits does not. (The theme does the same for code, tables and outputs.)
(function () {
  "use strict";
  var SCROLLERS = [".bd-article .cell_output", ".bd-article .rnnbook-widget-fallback",
                   ".bd-article .katex-display > .katex > .katex-html",
                   ".rnnbook-slider-views > :last-child"].join(", ");
  var pending = null;

  function update() {
    pending = null;
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible";
      if (scrolls && el.getAttribute("tabindex") !== "0") el.setAttribute("tabindex", "0");
      else if (!scrolls && el.getAttribute("tabindex") === "0") el.removeAttribute("tabindex");
    });
  }

  function later() {
    if (pending === null) pending = setTimeout(update, 200);
  }

  update();
  window.addEventListener("resize", later);
  window.addEventListener("load", later);
  var main = document.getElementById("main-content");
  if (main) new MutationObserver(later).observe(main, {subtree: true, childList: true});
})();

// The phone's "On this page" (and menu) drawer closes once a link in it to this page is tapped:
// the reader wants to see the section, not the drawer.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("dialog a[href]");
  if (!link) return;
  var dialog = link.closest("dialog");
  var target = new URL(link.href, document.baseURI);
  if (dialog && dialog.open && target.pathname === location.pathname && target.hash) dialog.close();
});

// Accessible names for the widgets' controls, which the widget library leaves bare:
// a slider announces "keep_prob = 0.7" (its name and the value shown) instead of its index,
// and the Play widget's icon buttons get labels.
(function () {
  "use strict";
  var ICONS = {"fa-play": "Play", "fa-pause": "Pause", "fa-stop": "Stop", "fa-retweet": "Repeat",
               "fa-repeat": "Repeat", "fa-sync": "Repeat"};

  function sliderName(box) {
    var name = box.querySelector(".widget-hbox > .widget-html .widget-html-content");
    var text = name ? name.textContent.trim() : "";
    return text || "view";
  }

  function labelHandle(box, handle, update) {
    var readout = box.querySelector(".widget-readout");
    var name = sliderName(box);
    var wanted = name + " = " + (readout ? readout.textContent.trim() : "");
    if (handle.getAttribute("aria-label") !== name) handle.setAttribute("aria-label", name);
    // the value shown beside the slider repeats what the handle announces: not a Tab stop of its own
    if (readout && readout.getAttribute("contenteditable") !== "false") readout.setAttribute("contenteditable", "false");
    if (readout && readout.getAttribute("aria-hidden") !== "true") readout.setAttribute("aria-hidden", "true");
    if (handle.getAttribute("aria-valuetext") !== wanted) handle.setAttribute("aria-valuetext", wanted);
    // the views' images: the one shown is described by the slider's value
    var images = box.querySelectorAll(".widget-image");
    images.forEach(function (img, i) {
      var shown = img.offsetParent !== null;
      var alt = shown ? wanted : name + ", view " + (i + 1) + " of " + images.length;
      if (img.getAttribute("alt") !== alt) img.setAttribute("alt", alt);
      // wide figures keep a readable size on phones (the view scrolls sideways)
      var wide = img.naturalHeight && img.naturalWidth / img.naturalHeight >= 2;
      if (wide && !img.classList.contains("rnnbook-wide-figure")) img.classList.add("rnnbook-wide-figure");
      else if (!wide && !img.complete) img.addEventListener("load", update, {once: true});
    });
  }

  function labelBox(box) {
    if (box.dataset.rnnbookLabelled) return;
    var handle = box.querySelector(".noUi-handle");
    if (!handle) return;
    box.dataset.rnnbookLabelled = "1";
    var update = function () { labelHandle(box, handle, update); };
    update();
    // noUiSlider rewrites aria-valuetext on every move; the readout changes with it
    new MutationObserver(update).observe(box, {subtree: true, childList: true, characterData: true,
                                               attributes: true, attributeFilter: ["aria-valuetext", "style", "class"]});
    box.querySelectorAll(".widget-play button").forEach(function (button) {
      var icon = button.querySelector("i");
      var label = "";
      if (icon) Object.keys(ICONS).forEach(function (cls) { if (icon.classList.contains(cls)) label = ICONS[cls]; });
      if (label) { button.setAttribute("aria-label", label); button.setAttribute("title", label); }
    });
  }

  function scan() {
    document.querySelectorAll(".rnnbook-slider-views").forEach(labelBox);
  }

  if (!document.querySelector('script[type="application/vnd.jupyter.widget-view+json"]')) return;
  var observer = new MutationObserver(scan);
  observer.observe(document.body, {childList: true, subtree: true});
  scan();
})();
