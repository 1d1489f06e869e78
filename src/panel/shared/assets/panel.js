// The panel's only hand-written script: htmx response handling, copy buttons, local times,
// clearing secret forms, keeping the live log pinned to its tail, charts (uPlot) and the
// Accounts page's "select all". Texts come from the page (data- attributes), in its language.

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
  var label = btn.textContent;
  var done = function () { btn.textContent = btn.getAttribute("data-copied") || label; setTimeout(function () { btn.textContent = label; }, 1200); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(el.textContent).then(done);
  else { var r = document.createRange(); r.selectNodeContents(el); var s = getSelection(); s.removeAllRanges(); s.addRange(r); document.execCommand("copy"); done(); }
});

// Forms that take secrets (refresh tokens, client secrets, pasted imports) are cleared once the
// server accepted them; with 4xx now swapped as results, "accepted" means a 2xx status.
document.addEventListener("htmx:afterRequest", function (ev) {
  var form = ev.target;
  var status = ev.detail.xhr ? ev.detail.xhr.status : 0;
  if (form && form.matches && form.matches("form[data-reset-on-success]") && status >= 200 && status < 300) {
    form.reset();
    // A warning about what was typed (unknown model names) no longer applies to the empty form.
    var warn = form.parentNode && form.parentNode.querySelector("#model-warning");
    if (warn) warn.innerHTML = "";
  }
});

// Accounts: Enter in a label saves it (the label is a one-line value in a growing text area).
document.addEventListener("keydown", function (ev) {
  if (ev.key === "Enter" && ev.target && ev.target.matches && ev.target.matches("textarea.label-edit")) { ev.preventDefault(); ev.target.blur(); }
});

// Accounts: the header checkbox ticks or clears every row shown.
document.addEventListener("change", function (ev) {
  var all = ev.target;
  if (!all || all.id !== "pick-all") return;
  var boxes = document.querySelectorAll("#accounts-table input[name=ids]");
  for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
});

// <time datetime> elements arrive as UTC text (readable without JS); show them in local time,
// written the way the page's language writes dates (src/panel/shared/format.ts has the same rules).
var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
var ZH = document.documentElement.lang === "zh-CN";
function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
function clock(d, secs) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + (secs ? ":" + pad(d.getSeconds()) : ""); }
function day(d, now) {
  var withYear = d.getFullYear() !== now.getFullYear();
  if (ZH) return (withYear ? d.getFullYear() + "年" : "") + (d.getMonth() + 1) + "月" + d.getDate() + "日";
  return MONTHS[d.getMonth()] + " " + d.getDate() + (withYear ? " " + d.getFullYear() : "");
}
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

// Charts: each <figure data-chart> carries its series (JSON in an attribute); uPlot draws them with
// time axes in local time, a legend, and a cursor readout. The instance stays on the element
// (el.uplot) and is resized with its box.
var CHART_H = 180;
function chartFmtDate(tpl) {
  if (!ZH) return uPlot.fmtDate(tpl);
  var zh = tpl.replace(/\{MMM\} \{D\}/g, "{M}月{D}日").replace(/\{YYYY\}/g, "{YYYY}年").replace(/\{MMM\}/g, "{M}月")
    .replace(/\{h\}\{aa\}/g, "{HH}:00").replace(/\{h\}/g, "{HH}").replace(/\{aa\}/g, "");
  return uPlot.fmtDate(zh);
}
function drawChart(fig) {
  if (fig.uplot || typeof uPlot === "undefined") return;
  var cfg;
  try { cfg = JSON.parse(fig.getAttribute("data-chart")); } catch (e) { return; }
  var box = fig.querySelector(".uchart-plot");
  var width = Math.max(200, box.clientWidth || fig.clientWidth - 20);
  var fmt = new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 1, notation: "compact" });
  var series = [{ label: ZH ? "时间" : "Time", value: function (u, v) { return v == null ? "—" : new Date(v * 1000).toLocaleString(document.documentElement.lang || undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }); } }];
  var data = [cfg.x];
  for (var i = 0; i < cfg.series.length; i++) {
    var s = cfg.series[i];
    var bars = s.kind === "bars";
    series.push({
      label: s.label, stroke: s.color, fill: s.color + (bars ? "99" : "22"), width: bars ? 0 : 1.5,
      // Counts are bars; gaps in a line (no request in a bucket, so no latency) are bridged.
      paths: bars && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
      spanGaps: !bars, points: { show: !bars && cfg.x.length < 80 },
      value: function (u, v) { return v == null ? "—" : fmt.format(v); },
    });
    data.push(s.values);
  }
  var opts = {
    width: width, height: CHART_H, series: series, fmtDate: chartFmtDate,
    scales: { x: { time: true } },
    axes: [
      { stroke: getComputedStyle(fig).color, grid: { stroke: "rgba(128,128,128,.15)" } },
      { stroke: getComputedStyle(fig).color, grid: { stroke: "rgba(128,128,128,.15)" }, size: 50, values: function (u, vals) { return vals.map(function (v) { return fmt.format(v); }); } },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
  fig.uplot = new uPlot(opts, data, box);
  fig.setAttribute("data-rendered", "1");
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      var w = Math.max(200, box.clientWidth);
      if (fig.uplot && Math.abs(fig.uplot.width - w) > 2) fig.uplot.setSize({ width: w, height: CHART_H });
    }).observe(box);
  }
}
function drawCharts(root) {
  var list = (root || document).querySelectorAll ? (root || document).querySelectorAll("figure[data-chart]") : [];
  for (var i = 0; i < list.length; i++) drawChart(list[i]);
}
document.addEventListener("htmx:load", function (ev) { drawCharts(ev.target); });
// A refreshed fragment (the dashboard's live part) replaces its figures; the old instances go with them.
document.addEventListener("htmx:beforeSwap", function (ev) {
  var old = ev.detail.target;
  var figs = old && old.querySelectorAll ? old.querySelectorAll("figure[data-chart]") : [];
  for (var i = 0; i < figs.length; i++) if (figs[i].uplot) { figs[i].uplot.destroy(); figs[i].uplot = null; }
});
