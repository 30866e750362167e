/* Menu admin: ticking "Delete" on a step that options go to asks what becomes of those
   options: delete them too, or point them to another step. Without an answer the save still
   goes through, and the options left pointing nowhere are listed as problems to fix. */
(function () {
  "use strict";

  const NODE_DELETE = /^nodes-(\d+)-DELETE$/;

  function field(row, name) {
    return row.querySelector("[name$='-" + name + "']");
  }

  function incomingRoutes(nodeId) {
    const rows = document.querySelectorAll("#routes-group tr.form-row");
    return Array.from(rows).filter(function (row) {
      const target = field(row, "target_node");
      const gone = field(row, "DELETE");
      return target && target.value === nodeId && !(gone && gone.checked);
    });
  }

  function describe(row) {
    const from = field(row, "node");
    const digits = field(row, "digits");
    const when = field(row, "when");
    const name = from && from.selectedIndex >= 0 ? from.options[from.selectedIndex].text : "";
    let how = when && when.selectedIndex >= 0 ? when.options[when.selectedIndex].text : "";
    if (when && when.value === "digits" && digits && digits.value) {
      how = "press " + digits.value;
    }
    return "Option of '" + name + "'" + (how ? " (" + how + ")" : "");
  }

  function element(tag, attributes, text) {
    const made = document.createElement(tag);
    Object.entries(attributes || {}).forEach(function ([key, value]) {
      made.setAttribute(key, value);
    });
    if (text) {
      made.textContent = text;
    }
    return made;
  }

  function closePrompt(container) {
    const open = container.querySelector(".ivr-delete-prompt");
    if (open) {
      open.remove();
    }
  }

  function ask(checkbox, index) {
    const container = checkbox.closest(".inline-related");
    const idInput = document.querySelector("[name='nodes-" + index + "-id']");
    closePrompt(container);
    if (!checkbox.checked || !idInput || !idInput.value) {
      return;
    }
    const routes = incomingRoutes(idInput.value);
    if (!routes.length) {
      return;
    }
    const prompt = element("div", { class: "ivr-delete-prompt", role: "alertdialog" });
    const count = routes.length === 1 ? "1 option goes" : routes.length + " options go";
    prompt.append(element("p", {}, count + " to this step. What should happen to them?"));
    const list = element("ul");
    routes.forEach(function (row) { list.append(element("li", {}, describe(row))); });
    prompt.append(list);

    const remove = element("button", { type: "button", class: "ivr-delete-routes" },
      "Delete those options too");
    const choices = element("select", { class: "ivr-retarget-choice", "aria-label": "Step" });
    const source = field(routes[0], "target_node");
    Array.from(source.options).forEach(function (option) {
      if (option.value && option.value !== idInput.value) {
        choices.append(element("option", { value: option.value }, option.text));
      }
    });
    const retarget = element("button", { type: "button", class: "ivr-retarget-routes" },
      "Point them to the chosen step");
    const keep = element("button", { type: "button", class: "ivr-keep-node" },
      "Keep this step");
    const actions = element("p");
    actions.append(remove, " or ", choices, " ", retarget, " or ", keep);
    prompt.append(actions);

    function done(text) {
      prompt.replaceChildren(element("p", { class: "ivr-delete-done" }, text));
    }
    remove.addEventListener("click", function () {
      routes.forEach(function (row) { field(row, "DELETE").checked = true; });
      done("Those options will be deleted with the step when you save.");
    });
    retarget.addEventListener("click", function () {
      const chosen = choices.options[choices.selectedIndex];
      routes.forEach(function (row) { field(row, "target_node").value = chosen.value; });
      done("Those options will go to " + chosen.text + " when you save.");
    });
    keep.addEventListener("click", function () {
      checkbox.checked = false;
      prompt.remove();
    });
    const heading = container.querySelector("h3");
    heading.after(prompt);
  }

  document.addEventListener("change", function (event) {
    const match = event.target.name && event.target.name.match(NODE_DELETE);
    if (match && event.target.type === "checkbox") {
      ask(event.target, match[1]);
    }
  });
})();
