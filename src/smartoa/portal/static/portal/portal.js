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
