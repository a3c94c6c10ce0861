/* policywatch: a little progressive JavaScript. Every page works without it. */
(function () {
  "use strict";

  // The timeline: the focused or hovered marker's date, kind and summary in the live region below it.
  document.querySelectorAll(".tl-scroll").forEach(function (box) {
    var status = box.nextElementSibling;
    if (!status || !status.classList.contains("tl-status")) return;
    status.hidden = false;
    status.textContent = "Focus or hover a marker to read its summary here; open it for the change.";
    function show(event) {
      var mark = event.target.closest ? event.target.closest("a.tl-mark") : null;
      if (mark) status.textContent = mark.getAttribute("aria-label");
    }
    box.addEventListener("focusin", show);
    box.addEventListener("mouseover", show);
  });

  // The compare pickers: two different versions, and the older one first (the server swaps them anyway).
  document.querySelectorAll("form[data-compare]").forEach(function (form) {
    var from = form.elements.namedItem("from");
    var to = form.elements.namedItem("to");
    var note = form.querySelector("[data-compare-note]");
    var button = form.querySelector("button");
    if (!from || !to || !note || !button) return;
    function check() {
      var same = from.value === to.value;
      button.disabled = same;
      if (same) note.textContent = "Choose two different versions to compare.";
      else if (from.value > to.value) note.textContent = "“From” is the newer one: they will be compared oldest first.";
      else note.textContent = "";
    }
    from.addEventListener("change", check);
    to.addEventListener("change", check);
    check();
  });
})();
