// Copy buttons: <button class="copy" data-copy-target="ID"> copies the text of #ID. The page works without it
// (the text can be selected by hand).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) { return; }
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(target.innerText.trim()).then(function () {
      var status = button.parentElement.querySelector(".copied");
      button.classList.add("done");
      if (status) { status.textContent = document.documentElement.lang === "en" ? "Copied." : "Copié."; }
    });
  });
})();

// Countdowns: <span class="countdown" data-deadline="ISO" data-now="ISO" data-hm="… {h} … {m} …" data-m="… {m} …"
// data-under="…" data-past="…"> (portal/countdown.html). They count from the platform's clock (data-now), in the
// page's language, every 15 s; at zero the day's block disables its buttons at once and asks the server for its
// new state (the "deadline" event its hx-trigger listens to). Without the script the server's text stands.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var clock = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      if (el.skew === undefined) { el.skew = Date.parse(el.dataset.now) - clock; }
      var left = Date.parse(el.dataset.deadline) - (clock + el.skew);
      if (left <= 0) {
        el.textContent = el.dataset.past;
        if (!el.expired) { el.expired = true; expire(el); }
        return;
      }
      var minutes = Math.floor(left / 60000), hours = Math.floor(minutes / 60);
      if (hours >= 48) { return; }  // counted in days: the server's words stand
      el.textContent = hours ? el.dataset.hm.replace("{h}", hours).replace("{m}", pad(minutes % 60))
        : minutes ? el.dataset.m.replace("{m}", minutes) : el.dataset.under;
    });
  }
  function expire(el) {
    var block = el.closest(".day-body");
    if (!block) { return; }
    block.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    block.dispatchEvent(new CustomEvent("deadline"));
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 15000);
})();
