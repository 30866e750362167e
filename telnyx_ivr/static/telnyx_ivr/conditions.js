/* Menu admin: a route's conditions as lines of words ("caller's number | starts with | +44")
   that write the JSON into the route's conditions box. The box stays, under "Show the JSON",
   for what the lines can't say; the two follow each other: the lines write the box on every
   change, and an edit of the box redraws the lines when they can show it. The server checks
   the conditions either way, and an empty box is no conditions.

   What the lines offer comes from the server, on the box's data-condition-editor attribute:
   the tests in the admin's words, the menu's variables, and each AI question's fields. */
(function () {
  "use strict";

  const BOX = "textarea[data-condition-editor]";
  // Choices of the "what it checks" list that are not a field: no field's path has a "#".
  const EARLIER_CALL = "#earlier-call";
  const OTHER = "#other";
  const CONDITION_KEYS = new Set(["field", "op", "value"]);
  // The menu file's rule for a field, to say at the line what the save would refuse.
  const PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;
  // JSON Schema's number types, and typeof's.
  const NUMBER_TYPES = new Set(["integer", "number"]);
  const NOT_JSON = "This is not valid JSON (yet): the lines show it once it is.";
  const MORE_THAN_LINES = "These conditions say more than the lines can show: edit them as "
    + "JSON.";

  /* A part of the editor: a ``tag`` of class ``name`` with its ``label``, which a button
     shows and a box is read out by. Buttons must not submit the page, boxes take text. */
  function part(tag, name, label) {
    const made = document.createElement(tag);
    made.className = name;
    if (tag === "button") {
      made.type = "button";
      made.textContent = label;
    } else if (label) {
      made.setAttribute("aria-label", label);
    }
    if (tag === "input") {
      made.type = "text";
    }
    return made;
  }

  function isScalar(value) {
    return ["string", "number", "boolean"].includes(typeof value);
  }

  /* A value the lines show in one box, items joined by commas: none of them may hold one. */
  function listable(items, onlyText) {
    return items.length > 0 && items.every(function (item) {
      return (onlyText ? typeof item === "string" : isScalar(item)) && !String(item).includes(",");
    });
  }

  function valueFits(kind, value) {
    switch (kind) {
      case "number":
        return typeof value === "number";
      case "days":
        return Number.isInteger(value);
      case "none":
        return typeof value === "boolean";
      case "list":
        return Array.isArray(value) && listable(value, false);
      case "text":
        return Array.isArray(value) ? listable(value, true) : listable([value], true);
      default:
        return isScalar(value);
    }
  }

  /* The conditions of ``text`` as lines, or why the lines cannot show them all. */
  function linesOf(text, tests) {
    let conditions = [];  // an empty box: no conditions
    if (text.trim()) {
      try {
        conditions = JSON.parse(text);
      } catch (error) {
        return NOT_JSON;
      }
    }
    return shownLines(conditions, tests) || MORE_THAN_LINES;
  }

  /* The parsed conditions as lines, or null when one of them is beyond the lines. */
  function shownLines(conditions, tests) {
    if (!Array.isArray(conditions)) {
      return null;
    }
    const lines = [];
    for (const condition of conditions) {
      if (!condition || typeof condition !== "object" || Array.isArray(condition)) {
        return null;
      }
      if (Object.keys(condition).some(function (key) { return !CONDITION_KEYS.has(key); })) {
        return null;
      }
      const test = tests.get(condition.op);
      if (!test || !("value" in condition) || !valueFits(test.value, condition.value)) {
        return null;
      }
      if (test.fieldless ? "field" in condition : typeof condition.field !== "string") {
        return null;
      }
      lines.push(condition);
    }
    return lines;
  }

  function valueText(value) {
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  /* Typed text as the field holds it: a number for a number field, true or false for a
     yes-or-no one; a field of unknown type keeps the kind of value it had. Keys pressed are
     text: "1" is not 1. */
  function typed(text, type, had) {
    const kind = type && type !== "object" ? type : had;
    if (NUMBER_TYPES.has(kind) && text !== "" && !isNaN(Number(text))) {
      return Number(text);
    }
    if (kind === "boolean" && (text === "true" || text === "false")) {
      return text === "true";
    }
    return text;
  }

  function commaList(text) {
    return text.split(",").map(function (item) { return item.trim(); })
      .filter(function (item) { return item; });
  }

  /* One condition per line of the box, so the JSON reads like the lines. */
  function jsonOf(conditions) {
    if (!conditions.length) {
      return "";
    }
    const items = conditions.map(function (condition) {
      // Newlines are only the layout here: JSON writes those of a text as \n.
      return JSON.stringify(condition, null, 1).replace(/\n\s*/g, " ");
    });
    return "[\n  " + items.join(",\n  ") + "\n]";
  }

  function editor(textarea) {
    let config;
    try {
      config = JSON.parse(textarea.dataset.conditionEditor);
    } catch (error) {
      return;
    }
    const tests = new Map(config.tests.map(function (test) { return [test.op, test]; }));
    const row = textarea.closest("tr") || textarea.closest(".form-row") || textarea.parentElement;
    const whenInput = row.querySelector("[name$='-when']");
    const nodeInput = row.querySelector("[name$='-node']");

    const box = part("div", "ivr-conditions");
    const notice = part("p", "ivr-conditions-notice");
    const list = part("ol", "ivr-conditions-list");
    const add = part("button", "ivr-condition-add", "Add a condition");
    const toggle = part("button", "ivr-conditions-show-json");
    const buttons = part("p", "ivr-conditions-buttons");
    buttons.append(add, " ", toggle);
    box.append(notice, list, buttons);
    const wrapper = part("div", "ivr-conditions-box");
    textarea.before(wrapper);
    wrapper.append(box, textarea);

    function when() {
      return whenInput ? whenInput.value : config.checks_on;
    }

    /* The fields this route's conditions read: an AI answer's, or the menu's variables. */
    function fields() {
      if (when() === config.answers_on) {
        return (config.answers || {})[nodeInput ? nodeInput.value : ""] || [];
      }
      return config.variables || [];
    }

    function fieldType(path) {
      const known = fields().find(function (field) { return field.path === path; });
      return known ? known.type : "";
    }

    /* The box as tall as its JSON, wrapped in the narrow column (up to a point). */
    function fitTextarea() {
      if (textarea.hidden) {
        return;
      }
      textarea.rows = 2;
      while (textarea.scrollHeight > textarea.clientHeight && textarea.rows < 14) {
        textarea.rows += 1;
      }
    }

    let showJson = false;
    function showTextarea(show) {
      showJson = show;
      textarea.hidden = !show;
      fitTextarea();
      toggle.textContent = show ? "Hide the JSON" : "Show the JSON";
    }

    /* A route that takes no conditions shows nothing, unless it has some (a mistake the
       server names at the field). */
    function showForWhen() {
      const wanted = [config.answers_on, config.checks_on].includes(when());
      wrapper.hidden = !wanted && !textarea.value.trim();
    }

    function fillWhat(what, chosen) {
      what.replaceChildren();
      fields().forEach(function (field) {
        what.append(new Option(field.words, field.path));
      });
      if (when() !== config.answers_on) {
        what.append(new Option(config.earlier_call, EARLIER_CALL));
      }
      what.append(new Option("another field…", OTHER));
      const offered = Array.from(what.options).some(function (o) { return o.value === chosen; });
      what.value = offered ? chosen : OTHER;
    }

    /* What the line checks: a field's path, or EARLIER_CALL. */
    function checked(line) {
      return line.what.value === OTHER ? line.path.value.trim() : line.what.value;
    }

    /* Offer the route's fields and tests on the line, choosing ``field`` and ``op`` where
       they are offered: a field that is not becomes another field, with its path. */
    function offer(line, field, op) {
      fillWhat(line.what, field);
      line.path.value = line.what.value === OTHER && field !== EARLIER_CALL ? field : "";
      fillTests(line, op);
    }

    function fillTests(line, chosen) {
      const fieldless = line.what.value === EARLIER_CALL;
      line.test.replaceChildren();
      tests.forEach(function (test) {
        if (test.fieldless === fieldless) {
          line.test.append(new Option(test.words, test.op));
        }
      });
      if (Array.from(line.test.options).some(function (o) { return o.value === chosen; })) {
        line.test.value = chosen;
      }
    }

    /* Show the boxes the line's choices take: a path for another field, yes or no for
       "is set", the unit after the value. */
    function shape(line) {
      const test = tests.get(line.test.value);
      line.path.hidden = line.what.value !== OTHER;
      line.yesNo.hidden = test.value !== "none";
      line.value.hidden = test.value === "none";
      line.value.inputMode = ["number", "days"].includes(test.value) ? "decimal" : "text";
      line.value.placeholder = { list: "a, b", text: "+44, +1800" }[test.value] || "";
      line.unit.textContent = test.unit;
      line.unit.hidden = !test.unit;
    }

    const lines = [];

    /* The line's condition, and what is wrong with it ("" for nothing). */
    function conditionOf(line) {
      const test = tests.get(line.test.value);
      const condition = {};
      let problem = "";
      if (!test.fieldless) {
        const path = checked(line);
        if (!PATH.test(path)) {
          problem = "Name the field, e.g. details.age.";
        }
        condition.field = path;
      }
      condition.op = test.op;
      const text = line.value.value.trim();
      const type = fieldType(condition.field);
      if (test.value === "none") {
        condition.value = line.yesNo.value === "yes";
      } else if (test.value === "number" || test.value === "days") {
        const number = text === "" ? NaN : Number(text);
        const whole = test.value === "days";
        condition.value = isNaN(number) || (whole && !Number.isInteger(number)) ? text : number;
        if (typeof condition.value !== "number") {
          problem = problem || (whole ? "Give a whole number of days." : "Give a number.");
        }
      } else if (test.value === "list" || test.value === "text") {
        const items = commaList(text).map(function (item) {
          return test.value === "list" ? typed(item, type, line.had) : item;
        });
        condition.value = test.value === "text" && items.length === 1 ? items[0] : items;
        if (!items.length) {
          problem = problem || "Give at least one value.";
        }
      } else {
        condition.value = typed(text, type, line.had);
      }
      return { condition: condition, problem: problem };
    }

    function write() {
      const made = lines.map(conditionOf);
      made.forEach(function (result, index) {
        lines[index].problem.textContent = result.problem;
        lines[index].item.classList.toggle("ivr-condition-wrong", Boolean(result.problem));
      });
      textarea.value = jsonOf(made.map(function (result) { return result.condition; }));
      fitTextarea();
    }

    function addLine(condition) {
      const item = part("li", "ivr-condition");
      const line = {
        item: item,
        what: part("select", "ivr-condition-what", "What it checks"),
        path: part("input", "ivr-condition-path", "Field"),
        test: part("select", "ivr-condition-test", "Test"),
        value: part("input", "ivr-condition-value", "Value"),
        yesNo: part("select", "ivr-condition-yes-no", "Value"),
        unit: part("span", "ivr-condition-unit"),
        problem: part("div", "ivr-condition-problem errornote-inline"),
        // What the value was, so that a field of unknown type keeps numbers numbers.
        had: Array.isArray(condition.value) ? typeof condition.value[0] : typeof condition.value,
      };
      const test = tests.get(condition.op);
      line.path.placeholder = "details.age";
      offer(line, test.fieldless ? EARLIER_CALL : condition.field, condition.op);
      line.yesNo.append(new Option("yes", "yes"), new Option("no", "no"));
      line.yesNo.value = condition.value === false ? "no" : "yes";
      line.value.value = test.value === "none" ? "" : valueText(condition.value);
      const remove = part("button", "ivr-condition-remove", "Remove");
      remove.addEventListener("click", function () {
        lines.splice(lines.indexOf(line), 1);
        item.remove();
        write();
      });
      line.what.addEventListener("change", function () {
        fillTests(line, line.test.value);
        if (line.what.value === OTHER) {
          line.path.focus();
        }
      });
      // Two short rows, what it checks and then its value: the routes' table is wide enough.
      const checks = part("div", "ivr-condition-controls");
      checks.append(line.what, line.path, line.test);
      const value = part("div", "ivr-condition-controls");
      value.append(line.value, line.yesNo, line.unit, remove);
      item.append(checks, value, line.problem);
      shape(line);
      list.append(item);
      lines.push(line);
      return line;
    }

    function fromTextarea() {
      const shown = linesOf(textarea.value, tests);
      lines.length = 0;
      list.replaceChildren();
      const readable = Array.isArray(shown);
      // The box is then the only way to edit: it cannot be hidden.
      list.hidden = add.hidden = toggle.hidden = !readable;
      notice.textContent = readable ? "" : shown;
      if (readable) {
        shown.forEach(addLine);
      } else {
        showTextarea(true);
      }
      fitTextarea();
    }

    list.addEventListener("input", write);
    list.addEventListener("change", function (event) {
      const line = lines.find(function (l) { return l.item.contains(event.target); });
      if (line) {
        shape(line);
      }
      write();
    });
    add.addEventListener("click", function () {
      const first = fields()[0];
      const condition = first ? { field: first.path, op: "equals", value: "" }
        : { field: "", op: "equals", value: "" };
      const line = addLine(condition);
      line.what.focus();
      write();
    });
    toggle.addEventListener("click", function () { showTextarea(!showJson); });
    textarea.addEventListener("input", fromTextarea);
    // Another outcome or another node offers other fields: the lines keep their choices.
    [whenInput, nodeInput].forEach(function (input) {
      if (input) {
        input.addEventListener("change", function () {
          lines.forEach(function (line) {
            offer(line, checked(line), line.test.value);
            shape(line);
          });
          showForWhen();
          if (lines.length) {
            write();
          }
        });
      }
    });

    fromTextarea();
    if (Array.isArray(linesOf(textarea.value, tests))) {
      // An error the server found is about the JSON: keep it in view.
      const cell = textarea.closest("td, .fieldBox, .form-row");
      showTextarea(Boolean(cell && cell.querySelector(".errorlist")));
    }
    showForWhen();
  }

  function editorsIn(root) {
    root.querySelectorAll(BOX).forEach(function (textarea) {
      // Django copies the hidden empty form to add a row: it must stay a bare box.
      if (!textarea.name.includes("__prefix__")) {
        editor(textarea);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { editorsIn(document); });
  document.addEventListener("formset:added", function (event) { editorsIn(event.target); });
})();
