// Names and keyboard access that Material's markup leaves out (axe-core's serious rules;
// tests/test_browser.py checks every page). Runs on every page, after Material's own
// script has wrapped the tables and code annotations it builds in the browser.
document$.subscribe(function () {
  // The search overlay is a dialog; a dialog needs a name.
  document.querySelectorAll(".md-search[role=dialog]").forEach(function (dialog) {
    dialog.setAttribute("aria-label", "Search");
  });

  // A wide table scrolls inside its wrapper: a keyboard user reaches that scroll area only
  // if it can take focus, and a screen reader announces it only if it is a named region.
  document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap, index) {
    wrap.setAttribute("tabindex", "0");
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Table " + (index + 1));
  });

  // A code annotation's marker is a link that shows only a number drawn by CSS: give it
  // words.
  document.querySelectorAll("a.md-annotation__index").forEach(function (marker) {
    var id = marker.querySelector("[data-md-annotation-id]");
    var number = id ? id.getAttribute("data-md-annotation-id") : "";
    marker.setAttribute("aria-label", ("Annotation " + number).trim());
  });
});


// Material styles Mermaid's flowcharts, sequence, class, state and entity diagrams in its own
// colours for each scheme, but not Gantt charts, which keep Mermaid's light-theme colours:
// grey text on purple bars, and dark section names on the dark scheme's background. The
// same colours Material gives the others, added to the styles Material hands Mermaid (it
// calls mermaid.initialize itself, after this script has run).
var GANTT_CSS = [
  ".titleText, [class^=sectionTitle], .grid .tick text",
  "{ fill: var(--md-mermaid-label-fg-color) !important }",
  ".section0, .section2 { fill: var(--md-default-fg-color--lightest) !important }",
  ".section1, .section3 { fill: transparent !important }",
  "rect[class^=task], rect[class*=' task'], [class^=active], [class^=done], [class^=crit]",
  "{ fill: var(--md-mermaid-node-bg-color) !important;",
  "  stroke: var(--md-mermaid-node-fg-color) !important }",
  "text[class^=taskText], text[class*=' taskText'], [class^=activeText], [class^=doneText],",
  "[class^=critText] { fill: var(--md-mermaid-label-fg-color) !important }",
  ".grid .tick line, .grid path { stroke: var(--md-default-fg-color--lightest) !important }",
].join("\n");
if (typeof mermaid !== "undefined" && !(mermaid instanceof Element)) {
  var initialize = mermaid.initialize.bind(mermaid);
  mermaid.initialize = function (config) {
    var themed = Object.assign({}, config);
    themed.themeCSS = (themed.themeCSS || "") + GANTT_CSS;
    return initialize(themed);
  };
}
