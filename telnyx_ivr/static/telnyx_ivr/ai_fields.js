/* Admin: the details an AI question collects, as a table (name, type, description,
   required, allowed values) that writes the JSON Schema into the schema box. The box stays,
   under "Show the JSON Schema", for what the table can't say; the two follow each other:
   the table writes the box on every change, and an edit of the box redraws the table when
   the table can show it. The server checks the schema either way. */
(function () {
  "use strict";

  const TYPES = [
    ["string", "Text"],
    ["integer", "Whole number"],
    ["number", "Number"],
    ["boolean", "Yes or no"],
  ];
  const TYPE_NAMES = new Set(TYPES.map(function (pair) { return pair[0]; }));
  const FIELD_KEYS = new Set(["type", "description", "enum"]);
  const SCHEMA_KEYS = new Set(["type", "properties", "required"]);

  function element(tag, attributes, text) {
    const made = document.createElement(tag);
    Object.entries(attributes || {}).forEach(function ([key, value]) {
      made.setAttribute(key, value);
    });
    if (text !== undefined) {
      made.textContent = text;
    }
    return made;
  }

  /* The rows of a schema, or null when the table cannot show it all. */
  function rowsOf(text) {
    if (!text.trim()) {
      return [];
    }
    let schema;
    try {
      schema = JSON.parse(text);
    } catch (error) {
      return null;
    }
    if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
      return null;
    }
    if (Object.keys(schema).some(function (key) { return !SCHEMA_KEYS.has(key); })) {
      return null;
    }
    if (schema.type !== undefined && schema.type !== "object") {
      return null;
    }
    const properties = schema.properties || {};
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const rows = [];
    for (const [name, spec] of Object.entries(properties)) {
      if (!spec || typeof spec !== "object" || !TYPE_NAMES.has(spec.type)) {
        return null;
      }
      if (Object.keys(spec).some(function (key) { return !FIELD_KEYS.has(key); })) {
        return null;
      }
      if (spec.enum !== undefined && !Array.isArray(spec.enum)) {
        return null;
      }
      rows.push({
        name: name,
        type: spec.type,
        description: spec.description || "",
        required: required.has(name),
        allowed: (spec.enum || []).join(", "),
      });
    }
    return rows;
  }

  /* The schema of the rows, and a problem per row index ("" for none). */
  function schemaOf(rows) {
    const properties = {};
    const required = [];
    const problems = rows.map(function () { return ""; });
    rows.forEach(function (row, index) {
      const name = row.name.trim();
      if (!name) {
        if (row.description || row.allowed) {
          problems[index] = "Give the field a name.";
        }
        return;
      }
      if (Object.prototype.hasOwnProperty.call(properties, name)) {
        problems[index] = "Another field is already called '" + name + "'.";
        return;
      }
      const spec = { type: row.type };
      if (row.description.trim()) {
        spec.description = row.description.trim();
      }
      const allowed = row.allowed.split(",").map(function (v) { return v.trim(); })
        .filter(function (v) { return v; });
      if (allowed.length) {
        if (row.type === "boolean") {
          problems[index] = "A yes-or-no field has no list of allowed values.";
        } else if (row.type === "string") {
          spec.enum = allowed;
        } else {
          const numbers = allowed.map(Number);
          const whole = row.type === "integer";
          if (numbers.some(function (n) { return isNaN(n) || (whole && !Number.isInteger(n)); })) {
            problems[index] = whole ? "Allowed values must be whole numbers."
              : "Allowed values must be numbers.";
          } else {
            spec.enum = numbers;
          }
        }
      }
      properties[name] = spec;
      if (row.required) {
        required.push(name);
      }
    });
    const schema = { type: "object", properties: properties };
    if (required.length) {
      schema.required = required;
    }
    return { schema: schema, problems: problems };
  }

  function editor(textarea) {
    const box = element("div", { class: "ivr-ai-fields" });
    const notice = element("p", { class: "ivr-ai-fields-notice" });
    const table = element("table", { class: "ivr-ai-fields-table" });
    const head = element("tr");
    ["Name", "Type", "Description", "Required", "Allowed values (a, b, c)", ""]
      .forEach(function (title) { head.append(element("th", {}, title)); });
    const thead = element("thead");
    thead.append(head);
    const body = element("tbody");
    table.append(thead, body);
    const add = element("button", { type: "button", class: "ivr-ai-add-field" }, "Add a field");
    const toggle = element("button", { type: "button", class: "ivr-ai-show-json" });
    box.append(notice, table, add, " ", toggle);
    // One block beside the label, the table above the box, so neither squeezes the other.
    const wrapper = element("div", { class: "ivr-ai-schema-box" });
    textarea.before(wrapper);
    wrapper.append(box, textarea);

    let showJson = false;
    function showTextarea(show) {
      showJson = show;
      textarea.style.display = show ? "" : "none";
      toggle.textContent = show ? "Hide the JSON Schema" : "Show the JSON Schema (advanced)";
    }

    function rowsInTable() {
      return Array.from(body.querySelectorAll("tr.ivr-ai-field")).map(function (tr) {
        return {
          name: tr.querySelector(".ivr-ai-name").value,
          type: tr.querySelector(".ivr-ai-type").value,
          description: tr.querySelector(".ivr-ai-description").value,
          required: tr.querySelector(".ivr-ai-required").checked,
          allowed: tr.querySelector(".ivr-ai-allowed").value,
        };
      });
    }

    function write() {
      const made = schemaOf(rowsInTable());
      body.querySelectorAll("tr.ivr-ai-field").forEach(function (tr, index) {
        const problem = tr.querySelector(".ivr-ai-problem");
        problem.textContent = made.problems[index];
        tr.classList.toggle("ivr-ai-field-wrong", Boolean(made.problems[index]));
      });
      textarea.value = JSON.stringify(made.schema, null, 2);
    }

    function addRow(row) {
      const tr = element("tr", { class: "ivr-ai-field" });
      const name = element("input", { type: "text", class: "ivr-ai-name", "aria-label": "Name" });
      name.value = row.name;
      const type = element("select", { class: "ivr-ai-type", "aria-label": "Type" });
      TYPES.forEach(function ([value, label]) {
        type.append(element("option", { value: value }, label));
      });
      type.value = row.type;
      const description = element("input", {
        type: "text", class: "ivr-ai-description", "aria-label": "Description",
      });
      description.value = row.description;
      const required = element("input", {
        type: "checkbox", class: "ivr-ai-required", "aria-label": "Required",
      });
      required.checked = row.required;
      const allowed = element("input", {
        type: "text", class: "ivr-ai-allowed", "aria-label": "Allowed values",
      });
      allowed.value = row.allowed;
      const remove = element("button", { type: "button", class: "ivr-ai-remove" }, "Remove");
      remove.addEventListener("click", function () { tr.remove(); write(); });
      const cells = [name, type, description, required, allowed, remove];
      cells.forEach(function (cell, index) {
        const td = element("td");
        td.append(cell);
        if (index === 0) {
          td.append(element("div", { class: "ivr-ai-problem errornote-inline" }));
        }
        tr.append(td);
      });
      body.append(tr);
      return tr;
    }

    function draw(rows) {
      body.replaceChildren();
      rows.forEach(addRow);
    }

    function fromTextarea() {
      const rows = rowsOf(textarea.value);
      if (rows === null) {
        table.style.display = "none";
        add.style.display = "none";
        notice.textContent = "This schema says more than the table can show: edit it as JSON.";
        showTextarea(true);
        return;
      }
      table.style.display = "";
      add.style.display = "";
      notice.textContent = "";
      draw(rows);
    }

    body.addEventListener("input", write);
    body.addEventListener("change", write);
    add.addEventListener("click", function () {
      const tr = addRow({ name: "", type: "string", description: "", required: false, allowed: "" });
      tr.querySelector(".ivr-ai-name").focus();
      write();
    });
    toggle.addEventListener("click", function () { showTextarea(!showJson); });
    textarea.addEventListener("input", fromTextarea);

    fromTextarea();
    if (rowsOf(textarea.value) !== null) {
      // An error the server found is about the JSON: keep it in view.
      const wrong = textarea.closest(".form-row, .fieldBox");
      showTextarea(Boolean(wrong && wrong.querySelector(".errorlist")));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[name='schema'], textarea[name^='ai_schemas-'][name$='-schema']")
      .forEach(function (textarea) {
        if (!textarea.name.includes("__prefix__")) {
          editor(textarea);
        }
      });
  });
  document.addEventListener("formset:added", function (event) {
    const textarea = event.target.querySelector("textarea[name$='-schema']");
    if (textarea && textarea.name.startsWith("ai_schemas-")) {
      editor(textarea);
    }
  });
})();
