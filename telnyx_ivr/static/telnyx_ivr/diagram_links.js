/* Menu admin: each step of the draft's diagram opens that step's part of the page. The
   diagram is drawn on the server from the saved draft; its boxes carry the step's key, and
   the page's rows are found by the key typed in them. */
(function () {
  "use strict";

  function rowOf(key) {
    const inputs = document.querySelectorAll("input[name^='nodes-'][name$='-key']");
    const input = Array.from(inputs).find(function (candidate) {
      return candidate.value === key;
    });
    return input ? input.closest(".inline-related") : null;
  }

  function open(row) {
    if (row.id) {
      window.location.hash = row.id;  // scrolls there, and :target outlines it
    }
    const first = row.querySelector("input:not([type='hidden']), select, textarea");
    if (first) {
      first.focus({ preventScroll: true });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".ivr-diagram g.ivr-node[data-key]").forEach(function (box) {
      if (box.closest("a")) {
        return;  // a box that already links somewhere (the traffic diagram's calls)
      }
      const row = rowOf(box.dataset.key);
      if (!row) {
        return;
      }
      box.setAttribute("role", "link");
      box.setAttribute("tabindex", "0");
      box.style.cursor = "pointer";
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = "Edit this step";
      box.prepend(title);
      box.addEventListener("click", function () { open(row); });
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open(row);
        }
      });
    });
  });
})();
