// storydesk web UI: small progressive enhancements. Every page works without this file.
//  1. Citations: highlight the cited source sentence (CSS :target does it; this also
//     opens a collapsed container and replays the highlight when the same link is clicked again).
//  2. Live updates: poll /api/v1/changes; when stored data changed, fetch this page again
//     and swap in its <main>, so newly ingested articles appear without a reload.
(function () {
  "use strict";
  var body = document.body;
  var token = body.getAttribute("data-token") || "";
  var every = parseFloat(body.getAttribute("data-poll") || "0");
  var live = document.getElementById("live");
  var toast = document.getElementById("toast");

  function highlight(id, scroll) {
    document.querySelectorAll(".s.hl").forEach(function (el) { el.classList.remove("hl", "flash"); });
    if (!id) return;
    var el = document.getElementById(id);
    if (!el || !el.classList.contains("s")) return;
    for (var p = el.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
    el.classList.add("hl");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
    if (scroll) el.scrollIntoView({ block: "center" });
  }

  function currentHash() { return decodeURIComponent(location.hash.replace(/^#/, "")); }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a.cite, a.cite-badge, a.source-link") : null;
    if (!a) return;
    var href = a.getAttribute("href") || "";
    if (href.charAt(0) !== "#") return;
    var id = href.slice(1);
    if (id === currentHash()) { ev.preventDefault(); highlight(id, true); }
  });
  window.addEventListener("hashchange", function () { highlight(currentHash(), false); });
  highlight(currentHash(), false);

  function say(text) {
    if (!toast) return;
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(say.t);
    say.t = setTimeout(function () { toast.hidden = true; }, 4000);
  }

  function refresh() {
    return fetch(location.pathname + location.search, { cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (r.status === 404) { say("This page no longer exists: its articles were regrouped."); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        var old = document.querySelector("main");
        if (!fresh || !old) return;
        if (fresh.innerHTML !== old.innerHTML) {
          var y = window.scrollY;
          old.replaceWith(fresh);
          window.scrollTo(0, y);
          highlight(currentHash(), false);
          say("Updated with newly ingested articles");
          document.dispatchEvent(new CustomEvent("storydesk:updated"));
        }
        var t = doc.body.getAttribute("data-token");
        if (t) { token = t; body.setAttribute("data-token", t); }
      });
  }

  function poll() {
    fetch("/api/v1/changes", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (live) live.classList.toggle("on", !!j);
        if (j && j.token && j.token !== token) {
          token = j.token;
          return refresh();
        }
      })
      .catch(function () { if (live) live.classList.remove("on"); })
      .then(function () { setTimeout(poll, every * 1000); });
  }
  if (every > 0 && window.fetch) {
    if (live) { live.hidden = false; live.classList.add("on"); }
    setTimeout(poll, every * 1000);
  }
})();
