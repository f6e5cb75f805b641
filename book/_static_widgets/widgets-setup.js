// The widgets' loader, on every page that shows widgets. The page, its menu and its search work
// without it: each widget is first a plain image written at build time. The widget bundle
// (RequireJS, then embed-amd.js, 3.6 MB) and the widgets' saved state (a JSON file beside the
// fallback images) are fetched only when a widget comes near the viewport or is touched; the
// live widget then replaces the image.
(function () {
  "use strict";
  var here = document.currentScript.src;
  var base = here.slice(0, here.lastIndexOf("/") + 1);
  var manager = base + "vendor/html-manager/";
  var started = false;

  // Each widget module finds its webfonts next to its RequireJS URL. Map the module ids to the
  // served folder so that they are found at any page depth (a global `require` object defined
  // before require.js loads is its configuration).
  var ids = ["base", "base7", "controls", "controls7", "html-manager"];
  var paths = {"@jupyter-widgets/html-manager/dist/libembed-amd": manager + "libembed-amd"};
  ids.forEach(function (id) { paths["@jupyter-widgets/" + id] = manager + id; });
  window.require = {paths: paths};
  window.__jupyter_widgets_assets_path__ = manager;

  function addScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  function addState(url) {
    return fetch(url).then(function (response) {
      if (!response.ok) throw new Error("could not load " + url + ": HTTP " + response.status);
      return response.text();
    }).then(function (text) {
      var script = document.createElement("script");
      script.type = "application/vnd.jupyter.widget-state+json";
      script.textContent = text;
      document.body.appendChild(script);
    });
  }

  function start() {
    if (started) return;
    started = true;
    document.documentElement.dataset.rnnbookWidgets = "loading";
    var holder = document.querySelector("[data-rnnbook-widget-state]");
    var states = holder ? holder.dataset.rnnbookWidgetState.split(" ") : [];
    Promise.all(states.map(addState))
      .then(function () { return addScript(base + "vendor/requirejs/require.js"); })
      // embed-amd.js renders every widget of the page as soon as it runs (the page has loaded)
      .then(function () { return addScript(manager + "embed-amd.js"); })
      .then(function () { document.documentElement.dataset.rnnbookWidgets = "loaded"; })
      .catch(function (error) {
        document.documentElement.dataset.rnnbookWidgets = "failed";
        console.error(error);
      });
  }

  function watch() {
    var widgets = document.querySelectorAll(".rnnbook-widget-fallback, script[type='application/vnd.jupyter.widget-view+json']");
    var areas = [];
    widgets.forEach(function (el) {
      var area = el.closest(".cell_output") || el.parentElement;
      if (area && areas.indexOf(area) < 0) areas.push(area);
    });
    if (!areas.length) return;
    areas.forEach(function (area) {
      ["pointerdown", "touchstart", "focusin"].forEach(function (kind) {
        area.addEventListener(kind, start, {once: true, passive: true});
      });
    });
    if (!("IntersectionObserver" in window)) { start(); return; }
    // "near": within a screen's height of the viewport, so that it is usually live when seen
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        observer.disconnect();
        start();
      }
    }, {rootMargin: "100% 0px"});
    areas.forEach(function (area) { observer.observe(area); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
