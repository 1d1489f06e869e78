// The panel's only hand-written script: copy buttons and keeping the live log light.
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest && ev.target.closest("[data-copy]");
  if (!btn) return;
  var el = document.getElementById(btn.getAttribute("data-copy"));
  if (!el) return;
  var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy"; }, 1200); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(el.textContent).then(done);
  else { var r = document.createRange(); r.selectNodeContents(el); var s = getSelection(); s.removeAllRanges(); s.addRange(r); document.execCommand("copy"); done(); }
});

// Forms that take secrets (refresh tokens, client secrets) are cleared once the server accepted them.
document.addEventListener("htmx:afterRequest", function (ev) {
  var form = ev.target;
  if (form && form.matches && form.matches("form[data-reset-on-success]") && ev.detail.successful) form.reset();
});

// Only the newest 1000 log lines stay in the DOM; the view follows the tail unless the reader scrolled up.
document.addEventListener("htmx:sseMessage", function () {
  var ol = document.getElementById("log-lines");
  if (!ol) return;
  while (ol.children.length > 1000) ol.removeChild(ol.firstChild);
  var box = document.getElementById("feed");
  if (box && box.scrollHeight - box.scrollTop - box.clientHeight < 160) box.scrollTop = box.scrollHeight;
});
