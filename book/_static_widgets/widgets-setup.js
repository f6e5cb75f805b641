// Loaded before RequireJS and the widget bundle on every page that shows widgets.
(function () {
  var here = document.currentScript.src;
  var manager = here.slice(0, here.lastIndexOf("/") + 1) + "vendor/html-manager/";
  // 1. The theme's FontAwesome script would swap the Play widget's <i class="fa"> icons for
  //    <svg> and break the widget; widgets keep their own icons.
  window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, {observeMutations: false});
  // 2. Each widget module finds its webfonts next to its RequireJS URL. Map the module ids to
  //    the served folder so that they are found at any page depth (a global `require` object
  //    defined before require.js loads is its configuration).
  var ids = ["base", "base7", "controls", "controls7", "html-manager"];
  var paths = {"@jupyter-widgets/html-manager/dist/libembed-amd": manager + "libembed-amd"};
  ids.forEach(function (id) { paths["@jupyter-widgets/" + id] = manager + id; });
  window.require = {paths: paths};
  window.__jupyter_widgets_assets_path__ = manager;
})();
