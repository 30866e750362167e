// The dashboard's filter bar: the Version list offers only the chosen menu's versions.
// Without this script every version is listed, and a wrong pair is named at the field.
(function () {
  "use strict";

  function narrowVersions(menuSelect, versionSelect) {
    var slug = menuSelect.value;
    var groups = versionSelect.querySelectorAll("optgroup[data-menu]");
    groups.forEach(function (group) {
      var shown = slug !== "" && group.getAttribute("data-menu") === slug;
      group.hidden = !shown;
      group.disabled = !shown;
    });
    var chosen = versionSelect.selectedOptions[0];
    if (chosen && chosen.parentNode.disabled) {
      versionSelect.value = "";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var menuSelect = document.getElementById("ivr-f-menu");
    var versionSelect = document.getElementById("ivr-f-version");
    if (!menuSelect || !versionSelect) {
      return;
    }
    narrowVersions(menuSelect, versionSelect);
    menuSelect.addEventListener("change", function () {
      narrowVersions(menuSelect, versionSelect);
    });
  });
})();
