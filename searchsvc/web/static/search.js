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

  // Search-as-you-type suggestions from /api/suggest in a listbox under the box (the ARIA
  // combobox pattern): Up and Down move through them, Enter or a click chooses one, Escape
  // closes them. A word goes into the box and is searched; a topic or provider sets its filter
  // (ticks it, as its facet would) and searches the words typed before its name. Without this
  // script the box is a plain search field.
  var box = document.getElementById("q");
  if (box && form && window.fetch) {
    box.removeAttribute("list"); // the page's datalist would show a second, unfiltered list
    var bar = box.parentNode;
    var list = document.createElement("ul");
    list.id = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    bar.appendChild(list);
    // (layout through the CSSOM, which the Content-Security-Policy allows: see style.css notes)
    bar.style.position = "relative";
    Object.assign(list.style, {
      position: "absolute", top: "100%", left: "0", right: "0", zIndex: "10", margin: "4px 0 0",
      padding: "4px 0", listStyle: "none", background: "#fff", border: "1px solid #d8dee4",
      borderRadius: "10px", boxShadow: "0 4px 16px rgba(31, 35, 40, 0.12)"
    });
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-expanded", "false");
    var items = [];
    var active = -1;
    var timer = null;
    var asked = "";
    var KINDS = { topic: "Topic", provider: "Provider" };

    var close = function () {
      list.hidden = true;
      active = -1;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
    };
    var highlight = function (index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.style.background = i === index ? "#e7f0fd" : "";
      });
      if (index >= 0) box.setAttribute("aria-activedescendant", list.children[index].id);
      else box.removeAttribute("aria-activedescendant");
    };
    var show = function (suggestions) {
      items = suggestions;
      list.textContent = "";
      suggestions.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = "suggest-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.kind = item.kind;
        Object.assign(option.style, { padding: "0.35rem 1rem", cursor: "pointer" });
        option.appendChild(document.createTextNode(item.text));
        if (item.filter) {
          var kind = document.createElement("span");
          kind.className = "suggest-kind";
          kind.textContent = " · " + (KINDS[item.kind] || item.kind) + " filter";
          kind.style.color = "#57606a";
          option.appendChild(kind);
        }
        option.addEventListener("mousedown", function (event) { event.preventDefault(); }); // keep focus
        option.addEventListener("click", function () { choose(i); });
        list.appendChild(option);
      });
      active = -1;
      list.hidden = suggestions.length === 0;
      box.setAttribute("aria-expanded", list.hidden ? "false" : "true");
      box.removeAttribute("aria-activedescendant");
    };
    var submit = function () {
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    };
    var choose = function (index) {
      var item = items[index];
      close();
      if (!item) return;
      if (!item.filter) {
        box.value = item.text;
        submit();
        return;
      }
      box.value = item.q || "";
      Object.keys(item.filter).forEach(function (name) {
        item.filter[name].forEach(function (value) {
          var ticked = false;
          form.ownerDocument.querySelectorAll('input[type=checkbox][form="search"]').forEach(function (input) {
            if (input.name === name && input.value.toLowerCase() === value.toLowerCase()) {
              input.checked = true;
              ticked = true;
            }
          });
          if (!ticked) {
            var hidden = document.createElement("input");
            hidden.type = "hidden";
            hidden.name = name;
            hidden.value = value;
            form.appendChild(hidden);
          }
        });
      });
      submit();
    };

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = box.value.replace(/^\s+/, ""); // a trailing space asks for the next word
        if (text.trim().length < 2) { close(); asked = ""; return; }
        if (text === asked) return;
        asked = text;
        fetch("/api/suggest?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
          .then(function (data) {
            if (box.value.replace(/^\s+/, "") !== text) return;
            show(data.suggestions || []);
          })
          .catch(function () { /* suggestions are optional */ });
      }, 150);
    });
    box.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= items.length) next = -1; // past the last: back to what was typed
        if (next < -1) next = items.length - 1;
        highlight(next);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      } else if (event.key === "Tab") {
        close();
      }
    });
    box.addEventListener("blur", close);
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
