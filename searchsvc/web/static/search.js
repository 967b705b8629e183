// Progressive enhancement only: every feature works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var form = document.getElementById("search");
  if (form) {
    // Keep URLs short: leave out empty fields and the default sort.
    form.addEventListener("formdata", function (event) {
      var data = event.formData;
      var empty = [];
      data.forEach(function (value, name) {
        if (value === "" || (name === "sort" && value === "relevance")) empty.push(name);
      });
      empty.forEach(function (name) { data.delete(name); });
    });
    // Facet checkboxes and the sort order apply at once.
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target && target.hasAttribute && target.hasAttribute("data-autosubmit")) {
        rememberFocus(target);
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
  }

  // Keep focus on the control that was used: a facet, the sort order, "Show more", a date bar.
  // The page reloads; the control's data-focus-key finds its counterpart on the new page.
  var FOCUS = "searchsvc.focus";
  function rememberFocus(element) {
    var key = element.getAttribute("data-focus-key");
    if (!key) return;
    try {
      sessionStorage.setItem(FOCUS, JSON.stringify({ key: key, at: Date.now() }));
    } catch (error) { /* no storage: focus starts at the top, as without this script */ }
  }
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest && event.target.closest("a[data-focus-key]");
    if (link) rememberFocus(link);
  });
  var remembered = null;
  try {
    remembered = JSON.parse(sessionStorage.getItem(FOCUS) || "null");
    sessionStorage.removeItem(FOCUS);
  } catch (error) { remembered = null; }
  var focusTarget = null;
  if (remembered && Date.now() - remembered.at < 30000) {
    document.querySelectorAll("[data-focus-key]").forEach(function (element) {
      if (!focusTarget && element.getAttribute("data-focus-key") === remembered.key) focusTarget = element;
    });
  }

  // On a narrow screen the filters fold into their "Filters" disclosure, unless the reader is
  // working in them (focus comes back there) or a field there needs correcting.
  var panel = document.querySelector(".filters-panel");
  if (panel && window.matchMedia) {
    var narrow = window.matchMedia("(max-width: 820px)");
    var busy = (focusTarget && panel.contains(focusTarget)) || panel.querySelector("[aria-invalid=true]");
    if (narrow.matches && !busy) panel.open = false;
    var follow = function (event) { panel.open = !event.matches; };
    if (narrow.addEventListener) narrow.addEventListener("change", follow);
  }
  if (focusTarget) focusTarget.focus();

  // Search-as-you-type suggestions from /api/suggest into the box's datalist.
  var box = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (box && list && window.fetch) {
    var timer = null;
    var last = "";
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = box.value.trim();
        if (text.length < 2 || text === last) return;
        last = text;
        fetch("/api/suggest?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
          .then(function (data) {
            if (box.value.trim() !== text) return;
            list.textContent = "";
            data.suggestions.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.text;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are optional */ });
      }, 150);
    });
  }

  // A thumbnail that fails to load is dropped rather than shown broken.
  document.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target.tagName === "IMG" && (target.classList.contains("thumb") || target.classList.contains("article-image"))) target.remove();
  }, true);

  // "Back to results" goes back in history when we came from this site.
  document.querySelectorAll("[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (document.referrer.indexOf(location.origin + "/") === 0 && history.length > 1) {
        event.preventDefault();
        history.back();
      }
    });
  });
})();
