// Confusion-matrix heatmap with a counts / row-normalised toggle, a sort choice, a zoom, the most-confused
// pairs, per-class precision/recall/F1, and the examples of the chosen cell (worst first).
// Keyboard: the heatmap is one tab stop (roving tabindex); arrow keys, Home and End move between cells;
// Enter or Space lists the cell's examples.
// Everything textual is set with textContent: label names and example texts are user data.
// Every word drawn comes from Python (`labels`, in the widget's language, {placeholders} filled here):
// this file holds none of its own.
const NS = "http://www.w3.org/2000/svg";
const FONT = "11px Arial, 'Liberation Sans', Helvetica, sans-serif";
const DIAGONAL = [31, 119, 180], OFF_DIAGONAL = [214, 39, 40];
const FORMATS = {
  precision: (v) => Number(v).toFixed(3), recall: (v) => Number(v).toFixed(3), f1: (v) => Number(v).toFixed(3),
  confidence: (v) => Number(v).toFixed(3), loss: (v) => Number(v).toFixed(3),
  support: (v) => Number(v).toLocaleString("en-US"), count: (v) => Number(v).toLocaleString("en-US"),
};
// Which control had the focus, per widget, so that a redraw (or a new view of the same widget,
// which JupyterLab makes when the output is updated) gives it back.
const lastFocus = new Map();

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function svgEl(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// A template from `labels` with its {placeholders} filled (values are data: never parsed as HTML).
function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

let canvas;
function textWidth(text) {
  canvas = canvas || document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  ctx.font = FONT;
  return ctx.measureText(text).width;
}

function luminance(rgb) {
  const lin = rgb.map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

// Black or white text, whichever contrasts more with the cell: at least 4.5:1 on any shade.
function inkOn(rgb) {
  const l = luminance(rgb);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
}

function tableOf(rows, columns, cls, headers) {
  const t = el("table", { class: cls || "" });
  const head = el("tr");
  columns.forEach((c) => head.appendChild(el("th", { scope: "col" }, (headers || {})[c] || c)));
  t.appendChild(head);
  rows.forEach((r) => {
    const tr = el("tr");
    columns.forEach((c) => {
      const v = r[c];
      const number = typeof v === "number";
      const text = v === undefined || v === null ? "" : FORMATS[c] ? FORMATS[c](v) : String(v);
      tr.appendChild(el("td", number ? { class: "num" } : {}, text));
    });
    t.appendChild(tr);
  });
  return t;
}

function focusKeyOf(node) {
  return node && node.dataset ? node.dataset.focusKey : undefined;
}

function heatmap(model, state) {
  const labels = model.get("labels") || {};
  const names = model.get("label_names"), short = model.get("short_names"), matrix = model.get("matrix");
  const order = model.get("order"), normalize = model.get("normalize"), selected = model.get("selected");
  const n = order.length;
  const fit = Math.max(14, Math.min(44, Math.floor(640 / Math.max(n, 1))));
  const cell = model.get("zoom") ? Math.max(fit, 36) : fit;
  const labelW = Math.ceil(Math.max(20, ...short.map(textWidth)));
  const left = labelW + 14, top = Math.ceil(labelW * Math.sin(Math.PI / 3)) + 22;
  const width = left + n * cell + Math.ceil(labelW / 2) + 8, height = top + n * cell + 6;
  const svg = svgEl("svg", { width, height, class: "sftkit-heatmap" });
  const rowSum = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const maxCount = Math.max(1, ...matrix.flat());
  svg.appendChild(svgEl("text", { x: 2, y: 12, class: "title", "aria-hidden": "true" }, labels.axes || ""));
  order.forEach((t, r) => {
    const y = top + r * cell + cell / 2 + 4, cx = left + r * cell + cell / 2;
    const rowLabel = svgEl("text", { x: left - 6, y, "text-anchor": "end", "aria-hidden": "true" }, short[t]);
    rowLabel.appendChild(svgEl("title", {}, names[t]));
    const colLabel = svgEl("text", { x: cx, y: top - 6, transform: `rotate(-60 ${cx} ${top - 6})`, "aria-hidden": "true" }, short[t]);
    colLabel.appendChild(svgEl("title", {}, names[t]));
    svg.append(rowLabel, colLabel);
  });
  if (!state.focus || state.focus[0] >= n || state.focus[1] >= n) {
    const at = selected.length === 2 ? [order.indexOf(selected[0]), order.indexOf(selected[1])] : [0, 0];
    state.focus = at[0] >= 0 && at[1] >= 0 ? at : [0, 0];
  }
  const grid = svgEl("g", { role: "grid", "aria-label": labels.grid || "", "aria-rowcount": n, "aria-colcount": n });
  const cells = [];
  order.forEach((t, r) => {
    const row = svgEl("g", { role: "row", "aria-rowindex": r + 1 });
    cells.push([]);
    order.forEach((p, c) => {
      const count = matrix[t][p];
      const share = rowSum[t] ? count / rowSum[t] : 0;
      const shade = normalize ? share : count / maxCount;
      const alpha = 0.12 + 0.88 * shade;
      const base = t === p ? DIAGONAL : OFF_DIAGONAL;
      const rgb = count ? base.map((v) => Math.round(v * alpha + 255 * (1 - alpha))) : [247, 247, 247];
      const isSelected = selected.length === 2 && selected[0] === t && selected[1] === p;
      const focused = state.focus[0] === r && state.focus[1] === c;
      const label = fill(labels.cell, { true: names[t], pred: names[p], count,
        share: fill(labels.share, { share: rowSum[t] ? (100 * share).toFixed(1) : 0 }) });
      const rect = svgEl("rect", {
        x: left + c * cell, y: top + r * cell, width: cell - 1, height: cell - 1, fill: `rgb(${rgb.join(",")})`,
        class: isSelected ? "cell selected" : "cell", "data-true": t, "data-pred": p, "data-count": count,
        "data-focus-key": `cell:${t}:${p}`, "data-r": r, "data-c": c, role: "gridcell", "aria-colindex": c + 1, "aria-label": label,
        "aria-selected": isSelected ? "true" : "false", tabindex: focused ? 0 : -1,
      });
      rect.appendChild(svgEl("title", {}, label));
      rect.addEventListener("click", () => { state.focus = [r, c]; choose(model, t, p); });
      row.appendChild(rect);
      cells[r].push(rect);
      if (cell >= 22 && count) {
        const shown = normalize ? share.toFixed(2).replace(/^0\./, ".") : String(count);
        const size = Math.min(11, (cell - 4) / Math.max(0.62 * shown.length, 1));
        row.appendChild(svgEl("text", { x: left + c * cell + cell / 2, y: top + r * cell + cell / 2 + size / 3,
          "text-anchor": "middle", "pointer-events": "none", "font-size": size.toFixed(1), fill: inkOn(rgb),
          "aria-hidden": "true" }, shown));
      }
    });
    grid.appendChild(row);
  });
  grid.addEventListener("keydown", (event) => {
    let [r, c] = state.focus;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[event.key]) {
      r = Math.max(0, Math.min(n - 1, r + moves[event.key][0]));
      c = Math.max(0, Math.min(n - 1, c + moves[event.key][1]));
    } else if (event.key === "Home") {
      c = 0;
    } else if (event.key === "End") {
      c = n - 1;
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      choose(model, order[r], order[c]);
      return;
    } else {
      return;
    }
    event.preventDefault();  // arrow keys move the focus, not the page
    cells[state.focus[0]][state.focus[1]].setAttribute("tabindex", "-1");
    state.focus = [r, c];
    const next = cells[r][c];
    next.setAttribute("tabindex", "0");
    next.focus();
  });
  svg.appendChild(grid);
  return { svg, countsShown: cell >= 22 };
}

function choose(model, t, p) {
  model.set("selected", [t, p]);
  model.save_changes();
}

// Focus the element with data-focus-key `want` once the view is in the page (a new view is drawn
// before it is attached, and a detached element cannot take the focus).
function restoreFocus(root, want, state, tries = 60) {
  if (!root.isConnected) {
    if (tries > 0) requestAnimationFrame(() => restoreFocus(root, want, state, tries - 1));
    return;
  }
  const target = [...root.querySelectorAll("[data-focus-key]")].find((e) => e.dataset.focusKey === want);
  if (!target || root.contains(document.activeElement) && focusKeyOf(document.activeElement) === want) return;
  if (target.classList.contains("cell")) {
    root.querySelectorAll("rect.cell[tabindex='0']").forEach((e) => e.setAttribute("tabindex", "-1"));
    target.setAttribute("tabindex", "0");
    state.focus = [Number(target.dataset.r), Number(target.dataset.c)];
  }
  target.focus({ preventScroll: true });
}

function render({ model, el: host }) {
  const root = el("div", { class: "sftkit-confusion tex2jax_ignore mathjax_ignore" });
  host.appendChild(root);
  const key = model.get("_key") || "";
  const state = { focus: null };
  root.addEventListener("focusin", (event) => {
    const focusKey = focusKeyOf(event.target);
    if (focusKey) lastFocus.set(key, { focusKey, at: Date.now() });
  });
  // Leaving the widget for another element forgets the focus; a view removed from the page does not.
  root.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !root.contains(event.relatedTarget)) lastFocus.delete(key);
  });
  const draw = () => {
    const labels = model.get("labels") || {};
    const columns = labels.columns || {};
    const active = root.contains(document.activeElement) ? focusKeyOf(document.activeElement) : undefined;
    const controls = el("div", { class: "controls" });
    const norm = el("input", { type: "checkbox", class: "sftkit-normalize", "aria-label": labels.normalize || "",
      "data-focus-key": "normalize" });
    norm.checked = model.get("normalize");
    norm.addEventListener("change", () => { model.set("normalize", norm.checked); model.save_changes(); });
    const normLabel = el("label", {}, ` ${labels.normalize || ""} `);
    normLabel.prepend(norm);
    const sort = el("select", { class: "sftkit-sort", "aria-label": labels.sort_aria || "", "data-focus-key": "sort" });
    for (const option of model.get("sort_options")) {
      const shown = (labels.sort_names || {})[option] || option;
      const o = el("option", { value: option }, fill(labels.sort_option, { option: shown }));
      if (option === model.get("sort_by")) o.selected = true;
      sort.appendChild(o);
    }
    sort.addEventListener("change", () => { model.set("sort_by", sort.value); model.save_changes(); });
    const zoomed = model.get("zoom");
    const zoom = el("button", { type: "button", class: "sftkit-zoom", "aria-pressed": zoomed ? "true" : "false",
      "data-focus-key": "zoom" }, zoomed ? labels.zoom_out : labels.zoom_in);
    zoom.addEventListener("click", () => { model.set("zoom", !model.get("zoom")); model.save_changes(); });
    const { svg, countsShown } = heatmap(model, state);
    const hint = el("div", { class: "hint" }, countsShown ? labels.hint : labels.hint_hidden);
    controls.append(normLabel, sort, zoom);
    const scroller = el("div", { class: zoomed ? "heatmap-scroll zoomed" : "heatmap-scroll" });
    scroller.appendChild(svg);
    const left = el("div", { class: "heatmap-column" });
    left.append(controls, hint, scroller);
    const middle = el("div", {});
    middle.append(el("div", { class: "title" }, labels.per_class),
      tableOf(model.get("per_class"), ["class", "precision", "recall", "f1", "support"], "per-class", columns),
      el("div", { class: "title" }, labels.pairs),
      tableOf(model.get("pairs"), ["true", "predicted", "count"], "pairs", columns));
    const right = el("div", { class: "examples", "aria-live": "polite" });
    const sel = model.get("selected");
    if (sel.length === 2) {
      const names = model.get("label_names");
      right.append(el("div", { class: "title" }, fill(labels.selected, { true: names[sel[0]], pred: names[sel[1]] })),
        model.get("examples").length
          ? tableOf(model.get("examples"), ["index", "text", "confidence", "loss"], "sftkit-examples", columns)
          : el("div", { class: "hint" }, labels.no_examples));
    } else {
      right.append(el("div", {}, labels.choose));
    }
    root.replaceChildren(left, middle, right);
    // Give the focus back to the control that had it before this redraw (or before this view replaced another).
    const memory = lastFocus.get(key);
    const want = active || (memory && Date.now() - memory.at < 5000 ? memory.focusKey : undefined);
    if (want) restoreFocus(root, want, state);
  };
  draw();
  const keys = ["matrix", "normalize", "order", "selected", "examples", "per_class", "pairs", "sort_by", "zoom",
    "short_names", "labels"];
  keys.forEach((k) => model.on(`change:${k}`, draw));
  return () => keys.forEach((k) => model.off(`change:${k}`, draw));
}

export default { render };
