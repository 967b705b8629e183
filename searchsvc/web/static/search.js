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
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
  }

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
