// Loaded before the widget bundle on every page that shows widgets.
// 1. The theme's FontAwesome script would swap the Play widget's <i class="fa"> icons for
//    <svg> and break it; widgets keep their own icons.
window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, {observeMutations: false});
// 2. The widget bundle loads its webfonts from this folder at any page depth, not from the
//    site root or a CDN.
(function () {
  var here = document.currentScript.src;
  window.__jupyter_widgets_assets_path__ = here.slice(0, here.lastIndexOf("/") + 1) + "vendor/html-manager/";
})();
