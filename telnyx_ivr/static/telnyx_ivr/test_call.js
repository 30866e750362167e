/* The menu admin's Test call page: start a simulated call, play the caller, and show the
 * transcript as it grows. Every request goes to this site's admin views, which proxy the
 * simulator (so the browser never holds its API key). */
(function () {
  "use strict";

  const POLL_MS = 500;
  // Polls after the call ended, so the app's answers to the last webhooks show too.
  const POLLS_AFTER_END = 6;
  const WAITS_TEXT = {
    keys: "The menu waits for keys: press one on the keypad (or type several).",
    ai_result: "The AI gather waits for its result: send one, or stay silent.",
    assistant: "The AI assistant is talking with the caller: end the conversation when done.",
  };
  const DETAIL_KINDS = new Set(["webhook", "command"]);

  let call = null;
  let timer = null;
  let pollsLeft = POLLS_AFTER_END;
  let busy = false;
  // Who showed the error: a failed poll's error goes with the next good poll; an action's
  // (a refused key, bad JSON) stays until the next action.
  let errorFrom = null;

  function $(id) {
    return document.getElementById(id);
  }

  function csrfToken() {
    const input = document.querySelector("#ivr-tc-start input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function request(method, url, payload) {
    const options = {
      method: method,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      throw new Error("This site did not answer: " + error.message);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      throw new Error("Unexpected answer from this site (HTTP " + response.status + ").");
    }
    if (!response.ok) {
      throw new Error(data.error + (data.fix ? " " + data.fix : ""));
    }
    return data;
  }

  function showError(message, from) {
    const box = $("ivr-tc-error");
    box.textContent = message || "";
    box.hidden = !message;
    errorFrom = message ? from : null;
  }

  // --- rendering ---------------------------------------------------------------------------

  function renderTranscript(entries) {
    const list = $("ivr-tc-transcript");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const items = entries.map(function (entry) {
      const item = document.createElement("li");
      item.className = "ivr-tc-entry ivr-tc-kind-" + entry.kind;
      if (DETAIL_KINDS.has(entry.kind)) {
        item.classList.add("ivr-tc-detail");
      }
      const time = document.createElement("span");
      time.className = "ivr-tc-time";
      time.textContent = Number(entry.t).toFixed(2) + " s";
      const kind = document.createElement("span");
      kind.className = "ivr-tc-badge";
      kind.textContent = entry.kind;
      const text = document.createElement("span");
      text.className = "ivr-tc-text";
      text.textContent = entry.text;
      item.append(time, kind, text);
      return item;
    });
    list.replaceChildren.apply(list, items);
    if (atBottom) {
      list.scrollTop = list.scrollHeight;
    }
  }

  function renderState(data) {
    const state = $("ivr-tc-state");
    if (data.ended) {
      const ended = data.transcript.filter(function (entry) {
        return entry.kind === "ended";
      });
      state.dataset.state = "ended";
      state.textContent =
        "Call ended: " + (ended.length ? ended[ended.length - 1].text : data.state) + ".";
      if (data.failures && data.failures.length) {
        state.textContent += " Problems: " + data.failures.join("; ");
        state.dataset.state = "failed";
      }
    } else if (data.waits_for) {
      state.dataset.state = "waiting";
      state.textContent = WAITS_TEXT[data.waits_for] || "The call waits for the caller.";
    } else {
      state.dataset.state = "running";
      state.textContent = "Call " + data.state + ": the menu is working…";
    }
    $("ivr-tc-waits").textContent = data.ended
      ? "The call has ended. Start another one above."
      : WAITS_TEXT[data.waits_for] || "Waiting for the menu…";
  }

  function setControls(data) {
    const live = data && !data.ended && !busy;
    const waits = live ? data.waits_for : null;
    // The keypad gives way to the AI controls while an AI gather or assistant runs.
    const aiTurn = Boolean(
      data && !data.ended && (data.waits_for === "ai_result" || data.waits_for === "assistant")
    );
    $("ivr-tc-keypad").hidden = aiTurn;
    $("ivr-tc-keys-form").hidden = aiTurn;
    document.querySelectorAll(".ivr-tc-key").forEach(function (button) {
      button.disabled = waits !== "keys";
    });
    $("ivr-tc-keys").disabled = waits !== "keys";
    $("ivr-tc-keys-send").disabled = waits !== "keys";
    const ai = $("ivr-tc-ai");
    ai.hidden = !(data && data.waits_for === "ai_result") || data.ended;
    ai.querySelectorAll("textarea, input, button").forEach(function (element) {
      element.disabled = waits !== "ai_result";
    });
    const end = $("ivr-tc-end-conversation");
    end.hidden = !(data && data.waits_for === "assistant") || data.ended;
    end.disabled = waits !== "assistant";
    $("ivr-tc-silent").disabled = !waits;
    $("ivr-tc-hangup").disabled = !live;
  }

  function render(data) {
    call = data;
    renderTranscript(data.transcript || []);
    renderState(data);
    setControls(data);
    $("ivr-tc-links").hidden = false;
    $("ivr-tc-call-log").href = data.call_log_url;
  }

  // --- polling -----------------------------------------------------------------------------

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    if (!call) {
      return;
    }
    try {
      const data = await request("GET", call.poll_url);
      if (data.id !== call.id) {
        return; // a newer call replaced this one meanwhile
      }
      render(data);
      if (errorFrom === "poll") {
        showError("");
      }
    } catch (error) {
      showError(error.message, "poll");
    }
    if (call.ended) {
      // Settled once every webhook has its answer (pending_webhooks 0), or after a few polls.
      pollsLeft -= 1;
      if (call.pending_webhooks === 0 || pollsLeft <= 0) {
        return;
      }
    }
    schedule();
  }

  // --- actions -----------------------------------------------------------------------------

  async function startCall(event) {
    event.preventDefault();
    const form = event.target;
    const button = $("ivr-tc-call");
    button.disabled = true;
    showError("");
    try {
      const data = await request("POST", form.action, {
        from: form.elements.from.value.trim(),
        to: form.elements.to.value.trim(),
      });
      clearTimeout(timer);
      pollsLeft = POLLS_AFTER_END;
      render(data);
      schedule();
    } catch (error) {
      showError(error.message, "action");
    } finally {
      button.disabled = false;
    }
  }

  async function sendStep(step) {
    if (!call || busy) {
      return;
    }
    busy = true;
    setControls(call);
    showError("");
    try {
      render(await request("POST", call.step_url, step));
    } catch (error) {
      showError(error.message, "action");
    } finally {
      busy = false;
      setControls(call);
      schedule();
    }
  }

  function init() {
    const start = $("ivr-tc-start");
    if (!start) {
      return;
    }
    start.addEventListener("submit", startCall);
    document.querySelectorAll(".ivr-tc-key").forEach(function (button) {
      button.addEventListener("click", function () {
        sendStep({ press: button.dataset.key });
      });
    });
    $("ivr-tc-keys-form").addEventListener("submit", function (event) {
      event.preventDefault();
      const keys = $("ivr-tc-keys").value.trim();
      if (keys) {
        sendStep({ press: keys });
        $("ivr-tc-keys").value = "";
      }
    });
    $("ivr-tc-ai").addEventListener("submit", function (event) {
      event.preventDefault();
      const form = event.target;
      sendStep({ ai_result: form.elements.ai_result.value, status: form.elements.status.value });
    });
    $("ivr-tc-end-conversation").addEventListener("click", function () {
      sendStep({ end_conversation: true });
    });
    $("ivr-tc-silent").addEventListener("click", function () {
      sendStep({ silent: true });
    });
    $("ivr-tc-hangup").addEventListener("click", function () {
      sendStep({ hangup: true });
    });
    $("ivr-tc-details").addEventListener("change", function (event) {
      $("ivr-tc-transcript").dataset.details = event.target.checked ? "on" : "off";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
