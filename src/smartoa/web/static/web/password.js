// Show-password buttons: after each password field, a button "Afficher" / "Masquer" (aria-pressed) shows or hides
// what was typed. The words come from the script tag (data-show, data-hide: translated by the page). Without
// JavaScript the fields stay as they are and the forms work the same.
(function () {
  "use strict";
  var script = document.currentScript;
  var words = {
    show: (script && script.getAttribute("data-show")) || "Afficher",
    hide: (script && script.getAttribute("data-hide")) || "Masquer"
  };

  function set(button, input, shown) {
    input.type = shown ? "text" : "password";
    button.setAttribute("aria-pressed", shown ? "true" : "false");
    button.textContent = shown ? words.hide : words.show;
  }

  function enhance(input) {
    if (!input.id || input.closest(".password-reveal")) { return; }
    var wrapper = document.createElement("span");
    wrapper.className = "password-reveal";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal";
    button.setAttribute("aria-controls", input.id);
    wrapper.appendChild(button);
    set(button, input, false);
    button.addEventListener("click", function () {
      set(button, input, input.type === "password");
    });
    if (input.form) {  // what is sent (and what a password manager sees) is a password field again
      input.form.addEventListener("submit", function () { set(button, input, false); });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[type=password]"), enhance);
})();
