/* hlm built-in book renderer: the search box, the "On this page" highlight, copy buttons
   on code blocks and anchors on headings.
   Offline: the index is search-index.js (window.BOOK_SEARCH_INDEX), loaded as a script. */
(function () {
  "use strict";

  function snippet(text, words) {
    var lower = text.toLowerCase(), at = -1;
    for (var i = 0; i < words.length && at < 0; i++) at = lower.indexOf(words[i]);
    if (at < 0) return text.slice(0, 140);
    var start = Math.max(0, at - 50);
    return (start > 0 ? "… " : "") + text.slice(start, start + 140) + (start + 140 < text.length ? " …" : "");
  }

  function search(query) {
    var index = window.BOOK_SEARCH_INDEX || [];
    var words = query.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 1; });
    if (!words.length) return [];
    var hits = [];
    index.forEach(function (entry) {
      var head = (entry.section + " " + entry.title).toLowerCase();
      var body = entry.text.toLowerCase();
      var score = 0;
      for (var i = 0; i < words.length; i++) {
        if (head.indexOf(words[i]) >= 0) score += 3;
        else if (body.indexOf(words[i]) >= 0) score += 1;
        else return;
      }
      hits.push({ entry: entry, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    return hits.slice(0, 20).map(function (h) { return h.entry; });
  }

  function setUpSearch() {
    var input = document.getElementById("search-input");
    var list = document.getElementById("search-results");
    if (!input || !list) return;
    function show() {
      var words = input.value.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 1; });
      var hits = search(input.value);
      list.innerHTML = "";
      hits.forEach(function (entry) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = entry.href;
        a.textContent = entry.section === entry.title ? entry.title : entry.section + " — " + entry.title;
        var p = document.createElement("div");
        p.className = "search-snippet";
        p.textContent = snippet(entry.text, words);
        li.appendChild(a);
        li.appendChild(p);
        list.appendChild(li);
      });
      if (input.value.trim().length > 1 && !hits.length) {
        var none = document.createElement("li");
        none.className = "search-none";
        none.textContent = "No matches";
        list.appendChild(none);
      }
    }
    input.addEventListener("input", show);
    input.addEventListener("keydown", function (ev) {
      var first = list.querySelector("a");
      if (ev.key === "Enter" && first) window.location.href = first.href;
      if (ev.key === "Escape") { input.value = ""; show(); }
    });
  }

  function setUpToc() {
    var links = document.querySelectorAll("#TOC a[href^='#']");
    if (!links.length || !("IntersectionObserver" in window)) return;
    var byId = {};
    links.forEach(function (a) { byId[decodeURIComponent(a.getAttribute("href").slice(1))] = a; });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) return;
        links.forEach(function (a) { a.classList.remove("active"); });
        var a = byId[e.target.id];
        if (a) a.classList.add("active");
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    Object.keys(byId).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) observer.observe(el);
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {  // older browsers, or an insecure context
      var area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  function setUpCopyButtons() {
    document.querySelectorAll("#content div.sourceCode").forEach(function (block) {
      var pre = block.querySelector("pre");
      if (!pre) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.title = "Copy to clipboard";
      button.setAttribute("aria-label", "Copy the code");
      button.textContent = "Copy";
      button.addEventListener("click", function () {
        copyText(pre.textContent).then(function () {
          button.textContent = "Copied";
          button.classList.add("copied");
        }, function () { button.textContent = "Failed"; });
        setTimeout(function () { button.textContent = "Copy"; button.classList.remove("copied"); }, 1500);
      });
      block.appendChild(button);
    });
  }

  function setUpAnchors() {
    document.querySelectorAll("#content h2[id], #content h3[id], #content h4[id]").forEach(function (h) {
      var a = document.createElement("a");
      a.className = "anchor-link";
      a.href = "#" + h.id;
      a.setAttribute("aria-label", "Link to this section");
      a.textContent = "#";
      h.appendChild(a);
    });
  }

  window.bookSearch = search;  // the search itself: query -> entries of the index, best first
  document.addEventListener("DOMContentLoaded", function () {
    setUpSearch(); setUpToc(); setUpCopyButtons(); setUpAnchors();
  });
})();
