// What a reader reaches for on a lesson page: a copy button on each code
// block, the page's sections in a sidebar (folded on narrow screens), and a
// search over every page. Everything works opened from disk (file://):
// the search index is in the page (window.searchIndex), nothing is loaded
// from elsewhere.
(function () {
  "use strict";

  // The text a button copies: the code as typed, without the line anchors.
  function codeText(pre) {
    var code = pre.querySelector("code") || pre;
    return code.textContent.replace(/\n$/, "");
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");  // older browsers
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function addCopyButtons() {
    document.querySelectorAll("div.sourceCode").forEach(function (block) {
      var pre = block.querySelector("pre");
      if (!pre) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-code";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy this code");
      button.addEventListener("click", function () {
        copy(codeText(pre)).then(
          function () { button.textContent = "Copied"; },
          function () { button.textContent = "Select and copy"; }
        );
        window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
      block.insertBefore(button, block.firstChild);
    });
  }

  // The table of contents in a <details>: open beside the text on wide
  // screens, folded above it on narrow ones.
  var WIDE = "(min-width: 1300px)";

  function foldContents() {
    var toc = document.getElementById("TOC");
    if (!toc || toc.querySelector("details")) return;
    var details = document.createElement("details");
    var summary = document.createElement("summary");
    summary.textContent = "On this page";
    details.appendChild(summary);
    while (toc.firstChild) details.appendChild(toc.firstChild);
    toc.appendChild(details);
    var wide = window.matchMedia(WIDE);
    var follow = function () { details.open = wide.matches; };
    follow();
    if (wide.addEventListener) wide.addEventListener("change", follow);
  }

  // Search: every word of the query must begin a word of an entry; matches
  // in titles count more than in the text, whole words more than prefixes.
  function words(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").match(/[a-z0-9]+/g) || [];
  }

  function prepared(entries) {
    return entries.map(function (entry) {
      return { entry: entry, title: words(entry.title), text: words(entry.text) };
    });
  }

  function hits(query, list) {
    var count = 0;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === query) count += 2;
      else if (list[i].lastIndexOf(query, 0) === 0) count += 1;
    }
    return count;
  }

  var KIND_WEIGHT = { glossary: 3, exercise: 2, section: 1, page: 1 };

  function search(query, index) {
    var terms = words(query);
    if (!terms.length) return [];
    var found = [];
    index.forEach(function (item) {
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var inTitle = hits(terms[i], item.title);
        var inText = hits(terms[i], item.text);
        if (!inTitle && !inText) return;
        score += 10 * inTitle + Math.min(inText, 10);
      }
      found.push({ entry: item.entry, score: score * KIND_WEIGHT[item.entry.kind] });
    });
    found.sort(function (a, b) { return b.score - a.score; });
    return found.slice(0, 10).map(function (hit) { return hit.entry; });
  }

  function showResults(box, results, query) {
    box.textContent = "";
    if (!query.trim()) return;
    if (!results.length) {
      box.textContent = "Nothing found for “" + query.trim() + "”.";
      return;
    }
    var list = document.createElement("ul");
    results.forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry.page + (entry.anchor ? "#" + entry.anchor : "");
      link.textContent = entry.title;
      item.appendChild(link);
      var where = document.createElement("span");
      where.className = "search-where";
      var kind = entry.kind === "glossary" ? "glossary term, " : entry.kind === "exercise" ? "exercise, " : "";
      where.textContent = " (" + kind + entry.page.replace(/\.html$/, "") +
        (entry.section !== entry.title ? ": " + entry.section : "") + ")";
      item.appendChild(where);
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function startSearch() {
    var input = document.getElementById("site-search");
    var box = document.getElementById("search-results");
    if (!input || !box || !window.searchIndex) return;
    var index = prepared(window.searchIndex);
    input.addEventListener("input", function () {
      showResults(box, search(input.value, index), input.value);
    });
    input.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var first = box.querySelector("a");
      if (first) window.location.href = first.href;
    });
  }

  function start() {
    startSearch();
    if ((window.siteOptions || {}).codeCopy !== false) addCopyButtons();
    foldContents();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
