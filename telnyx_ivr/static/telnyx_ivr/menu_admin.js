/* Menu admin: show each node's fields for its kind only, and empty the others on submit
   (the server rejects fields a kind does not use). The kind -> fields map comes from the
   server, on the kind select's data-kind-fields attribute. */
(function () {
  "use strict";

  function kindMap(select) {
    try {
      return JSON.parse(select.dataset.kindFields);
    } catch (error) {
      return null;
    }
  }

  function allFields(map) {
    const fields = new Set();
    Object.values(map).forEach(function (list) {
      list.forEach(function (field) { fields.add(field); });
    });
    return fields;
  }

  function nodeContainer(select) {
    return select.closest(".inline-related") || select.form;
  }

  function inputsOf(container, field) {
    return container.querySelectorAll(
      "[name$='-" + field + "'], [name='" + field + "']"
    );
  }

  function apply(select) {
    const map = kindMap(select);
    const container = nodeContainer(select);
    if (!map || !container) {
      return;
    }
    const wanted = new Set(map[select.value] || []);
    allFields(map).forEach(function (field) {
      container.querySelectorAll(".field-" + field).forEach(function (element) {
        // A row of several fields is shown while any of its boxes is (decided below).
        if (element.classList.contains("form-row") && element.querySelector(".fieldBox")) {
          return;
        }
        element.hidden = !wanted.has(field);
      });
    });
    container.querySelectorAll(".form-row").forEach(function (row) {
      const boxes = row.querySelectorAll(".fieldBox");
      if (boxes.length > 0) {
        row.hidden = Array.from(boxes).every(function (box) { return box.hidden; });
      }
    });
    container.querySelectorAll("fieldset").forEach(function (fieldset) {
      const rows = Array.from(fieldset.querySelectorAll(".form-row"));
      fieldset.hidden = rows.length > 0 && rows.every(function (row) { return row.hidden; });
    });
  }

  function clearUnused(select) {
    const map = kindMap(select);
    const container = nodeContainer(select);
    if (!map || !container || !select.value) {
      return;
    }
    const wanted = new Set(map[select.value] || []);
    allFields(map).forEach(function (field) {
      if (wanted.has(field)) {
        return;
      }
      inputsOf(container, field).forEach(function (input) {
        if (input.type === "checkbox") {
          input.checked = false;
        } else if (input.tagName === "SELECT") {
          const blank = Array.from(input.options).findIndex(function (option) {
            return option.value === "" || option.value === "unknown";
          });
          input.selectedIndex = blank;
        } else {
          input.value = "";
        }
      });
    });
  }

  function selectsIn(root) {
    return root.querySelectorAll("select[data-kind-fields]");
  }

  document.addEventListener("DOMContentLoaded", function () {
    selectsIn(document).forEach(apply);
    document.addEventListener("change", function (event) {
      if (event.target.matches("select[data-kind-fields]")) {
        apply(event.target);
      }
    });
    document.addEventListener("formset:added", function (event) {
      selectsIn(event.target).forEach(apply);
    });
    document.addEventListener("submit", function (event) {
      selectsIn(event.target).forEach(clearUnused);
    });
  });
})();
