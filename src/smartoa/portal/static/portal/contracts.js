// Selections of the Contrats and API access pages (forms marked data-selection): "Tout sélectionner" ticks every
// selectable row of the page (on the Contrats page, only the contracts that need acknowledging carry a box), and a
// live count says how many are ticked. Without script the pages keep their own buttons (acknowledge every contract
// of the page, apply to the whole filter), so these controls stay hidden until this file runs.
(function () {
  "use strict";

  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input[data-selectable]"));
  }

  function update(form) {
    var all = boxes(form);
    var ticked = all.filter(function (box) { return box.checked; }).length;
    form.querySelectorAll("input[data-select-all]").forEach(function (master) {
      master.checked = all.length > 0 && ticked === all.length;
      master.indeterminate = ticked > 0 && ticked < all.length;
    });
    form.querySelectorAll("[data-selected-count]").forEach(function (out) {
      out.textContent = ticked === 0 ? out.dataset.none : ticked === 1 ? out.dataset.one : ticked + " " + out.dataset.many;
    });
  }

  document.querySelectorAll("form[data-selection]").forEach(function (form) {
    form.querySelectorAll("[data-js-only]").forEach(function (element) { element.hidden = false; });
    form.addEventListener("change", function (event) {
      if (event.target.matches("input[data-select-all]")) {
        boxes(form).forEach(function (box) { box.checked = event.target.checked; });
      }
      update(form);
    });
    update(form);
  });
})();
