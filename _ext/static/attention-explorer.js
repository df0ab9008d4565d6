/* Attention explorer (atencion.explorer.attention_explorer writes the markup and its data):
   choose a layer and a head; point at a query, or focus it (Tab, then the arrow keys, Home,
   End), to show its row of weights over the keys. No request leaves the page. */
(() => {
  "use strict";
  const format = (value, decimals) => value.toFixed(decimals);

  function setUp(root) {
    const data = JSON.parse(root.querySelector("script.ae-data").textContent);
    const buttons = Array.from(root.querySelectorAll(".ae-query"));
    const layerSelect = root.querySelector('select[data-role="layer"]');
    const headSelect = root.querySelector('select[data-role="head"]');
    const caption = root.querySelector("table.ae-row caption");
    const body = root.querySelector("table.ae-row tbody");
    const live = root.querySelector(".ae-live");
    const state = { layer: 0, head: 0, query: 0 };

    function render(announce) {
      const row = data.weights[state.layer][state.head][state.query];
      const token = data.queries[state.query];
      caption.textContent = data.text.row.replace("{token}", token).replace("{position}", state.query + 1);
      body.querySelectorAll("tr").forEach((tr, j) => {
        tr.querySelector(".ae-bar").style.setProperty("--ae-weight", row[j]);
        tr.querySelector(".ae-value").textContent = format(row[j], data.decimals);
        tr.classList.toggle("ae-top", row[j] === Math.max(...row) && row[j] > 0);
      });
      buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(i === state.query)));
      root.dataset.layer = state.layer;
      root.dataset.head = state.head;
      root.dataset.query = state.query;
      if (announce) {
        const best = row.indexOf(Math.max(...row));
        live.textContent = data.text.top.replace("{token}", token).replace("{key}", data.keys[best])
          .replace("{weight}", format(row[best], data.decimals));
      }
    }

    function choose(index, focus) {
      state.query = index;
      buttons.forEach((b, i) => (b.tabIndex = i === index ? 0 : -1));  // one tab stop: the chosen query
      if (focus) buttons[index].focus();
      render(true);
    }

    buttons.forEach((button, i) => {
      button.addEventListener("mouseenter", () => choose(i, false));
      button.addEventListener("focus", () => { if (state.query !== i) choose(i, false); });
      button.addEventListener("click", () => choose(i, false));
      button.addEventListener("keydown", (event) => {
        const last = buttons.length - 1;
        const next = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: last }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        choose(Math.min(Math.max(next, 0), last), true);
      });
    });
    if (layerSelect) layerSelect.addEventListener("change", () => { state.layer = Number(layerSelect.value); render(true); });
    if (headSelect) headSelect.addEventListener("change", () => { state.head = Number(headSelect.value); render(true); });
    root.classList.add("ae-ready");
    render(false);
  }

  const start = () => document.querySelectorAll("[data-attention-explorer]").forEach(setUp);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
