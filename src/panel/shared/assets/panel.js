// The panel's only hand-written script: htmx response handling, copy buttons, local times,
// clearing secret forms, and keeping the live log pinned to its tail.

// htmx 2 swaps nothing for 4xx/5xx by default, which hid every error message the routes send
// (bad JSON, missing IdC client, past expiry, out-of-range settings). 4xx answers are messages
// for the user: swap them as ordinary results. 5xx are swapped too, but flagged as errors.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "4..", swap: true, error: false },
  { code: "5..", swap: true, error: true },
  { code: "...", swap: false },
];

document.addEventListener("click", function (ev) {
  var close = ev.target.closest && ev.target.closest("[data-close]");
  if (close) { var box = document.getElementById(close.getAttribute("data-close")); if (box) box.innerHTML = ""; return; }
  var btn = ev.target.closest && ev.target.closest("[data-copy]");
  if (!btn) return;
  var el = document.getElementById(btn.getAttribute("data-copy"));
  if (!el) return;
  var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy"; }, 1200); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(el.textContent).then(done);
  else { var r = document.createRange(); r.selectNodeContents(el); var s = getSelection(); s.removeAllRanges(); s.addRange(r); document.execCommand("copy"); done(); }
});

// Forms that take secrets (refresh tokens, client secrets, pasted imports) are cleared once the
// server accepted them; with 4xx now swapped as results, "accepted" means a 2xx status.
document.addEventListener("htmx:afterRequest", function (ev) {
  var form = ev.target;
  var status = ev.detail.xhr ? ev.detail.xhr.status : 0;
  if (form && form.matches && form.matches("form[data-reset-on-success]") && status >= 200 && status < 300) form.reset();
});

// <time datetime> elements arrive as UTC text (readable without JS); show them in local time.
var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
function clock(d, secs) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + (secs ? ":" + pad(d.getSeconds()) : ""); }
function day(d, now) { return MONTHS[d.getMonth()] + " " + d.getDate() + (d.getFullYear() === now.getFullYear() ? "" : " " + d.getFullYear()); }
function localText(d, kind) {
  var now = new Date();
  var today = d.toDateString() === now.toDateString();
  if (kind === "log") return clock(d, true) + "." + pad(d.getMilliseconds(), 3);
  if (kind === "full") return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + clock(d, true);
  if (kind === "until") return d.getTime() - now.getTime() < 86400000 ? clock(d) : day(d, now);
  return today ? clock(d, true) : day(d, now) + " " + clock(d);
}
function localiseTimes(root) {
  var list = (root || document).querySelectorAll ? (root || document).querySelectorAll("time[data-t]") : [];
  for (var i = 0; i < list.length; i++) {
    var t = list[i];
    if (t.hasAttribute("data-local")) continue;
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime())) continue;
    t.textContent = localText(d, t.getAttribute("data-t"));
    t.title = d.toString();
    t.setAttribute("data-local", "1");
  }
}
// htmx:load fires for the page and for every piece of swapped-in content (SSE lines included).
document.addEventListener("htmx:load", function (ev) { localiseTimes(ev.target); });

// Live log: start at the newest line and stay pinned to the tail while lines arrive, unless the
// reader scrolled up (then leave the view alone until they scroll back down).
var pinned = true;
function feedBox() { return document.getElementById("feed"); }
function toBottom() { var box = feedBox(); if (box) box.scrollTop = box.scrollHeight; }
document.addEventListener("scroll", function (ev) {
  var box = ev.target;
  if (box && box.id === "feed") pinned = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
}, true);
document.addEventListener("htmx:load", function (ev) {
  var el = ev.target;
  if (el && (el.id === "log-view" || el.id === "feed" || (el.querySelector && el.querySelector("#feed")))) { pinned = true; toBottom(); }
});
document.addEventListener("htmx:sseMessage", function () {
  var ol = document.getElementById("log-lines");
  if (!ol) return;
  // Only the newest 1000 lines stay in the DOM.
  while (ol.children.length > 1000) ol.removeChild(ol.firstChild);
  if (pinned) toBottom();
});

// A request's details open below a long table: bring them into view.
document.addEventListener("htmx:afterSwap", function (ev) {
  var t = ev.detail.target;
  if (t && t.id === "request-detail" && t.firstElementChild) t.scrollIntoView({ behavior: "smooth", block: "nearest" });
});
