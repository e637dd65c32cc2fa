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

