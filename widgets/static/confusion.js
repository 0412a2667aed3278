// Confusion-matrix heatmap with a counts / row-normalised toggle, a sort choice, the most-confused
// pairs, per-class precision/recall/F1, and the examples of the clicked cell (worst first).
// Everything textual is set with textContent: label names and example texts are user data.
const NS = "http://www.w3.org/2000/svg";

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

function tableOf(rows, columns, cls) {
  const t = el("table", { class: cls || "" });
  const head = el("tr");
  columns.forEach((c) => head.appendChild(el("th", {}, c)));
  t.appendChild(head);
  rows.forEach((r) => {
    const tr = el("tr");
    columns.forEach((c) => {
      const v = r[c];
      tr.appendChild(el("td", {}, typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : v ?? ""));
    });
    t.appendChild(tr);
  });
  return t;
}

const short = (s, n) => (s.length > n ? s.slice(0, n - 1) + "\u2026" : s);

function heatmap(model) {
  const names = model.get("label_names"), matrix = model.get("matrix"), order = model.get("order");
  const normalize = model.get("normalize"), selected = model.get("selected");
  const n = order.length;
  const cell = Math.max(12, Math.min(44, Math.floor(520 / Math.max(n, 1))));
  const labelW = Math.min(130, 8 + 7 * Math.max(...names.map((s) => Math.min(s.length, 16)), 4));
  const top = labelW + 12, left = labelW + 12;
  const size = left + n * cell + 8;
  const svg = svgEl("svg", { width: size, height: top + n * cell + 8, class: "sftkit-heatmap" });
  const rowSum = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const maxCount = Math.max(1, ...matrix.flat());
  svg.appendChild(svgEl("text", { x: 2, y: 12, class: "title" }, "true \u2193  predicted \u2192"));
  order.forEach((t, r) => {
    svg.appendChild(svgEl("text", { x: left - 4, y: top + r * cell + cell / 2 + 4, "text-anchor": "end" }, short(names[t], 16)));
    const cx = left + r * cell + cell / 2;
    svg.appendChild(svgEl("text", { x: cx, y: top - 4, transform: `rotate(-60 ${cx} ${top - 4})` }, short(names[t], 16)));
  });
  order.forEach((t, r) => {
    order.forEach((p, c) => {
      const count = matrix[t][p];
      const value = normalize ? (rowSum[t] ? count / rowSum[t] : 0) : count;
      const shade = normalize ? value : count / maxCount;
      const hue = t === p ? "31,119,180" : "214,39,40";
      const rect = svgEl("rect", {
        x: left + c * cell, y: top + r * cell, width: cell - 1, height: cell - 1,
        fill: count ? `rgba(${hue},${(0.12 + 0.88 * shade).toFixed(3)})` : "#f7f7f7",
        class: "cell", "data-true": t, "data-pred": p, "data-count": count,
      });
      if (selected.length === 2 && selected[0] === t && selected[1] === p) rect.classList.add("selected");
      const shown = normalize ? value.toFixed(2) : String(count);
      rect.appendChild(svgEl("title", {}, `true ${names[t]}, predicted ${names[p]}: ${count} (${rowSum[t] ? ((100 * count) / rowSum[t]).toFixed(1) : 0}% of row)`));
      rect.addEventListener("click", () => {
        model.set("selected", [t, p]);
        model.save_changes();
      });
      svg.appendChild(rect);
      if (cell >= 24 && count) {
        const txt = svgEl("text", { x: left + c * cell + cell / 2, y: top + r * cell + cell / 2 + 4, "text-anchor": "middle", "pointer-events": "none",
          fill: shade > 0.55 ? "#fff" : "#000" }, normalize ? shown.replace(/^0\./, ".") : shown);
        svg.appendChild(txt);
      }
    });
  });
  return svg;
}

function render({ model, el: host }) {
  const root = el("div", { class: "sftkit-confusion tex2jax_ignore mathjax_ignore" });
  host.appendChild(root);
  const draw = () => {
    const controls = el("div", { class: "controls" });
    const norm = el("input", { type: "checkbox", class: "sftkit-normalize" });
    norm.checked = model.get("normalize");
    norm.addEventListener("change", () => { model.set("normalize", norm.checked); model.save_changes(); });
    const normLabel = el("label", {}, " row-normalised ");
    normLabel.prepend(norm);
    const sort = el("select", { class: "sftkit-sort" });
    for (const option of model.get("sort_options")) {
      const o = el("option", { value: option }, `sort: ${option}`);
      if (option === model.get("sort_by")) o.selected = true;
      sort.appendChild(o);
    }
    sort.addEventListener("change", () => { model.set("sort_by", sort.value); model.save_changes(); });
    controls.append(normLabel, sort);
    const left = el("div", {});
    left.append(controls, heatmap(model));
    const middle = el("div", {});
    middle.append(el("div", { class: "title" }, "per class"),
      tableOf(model.get("per_class"), ["class", "precision", "recall", "f1", "support"], "per-class"),
      el("div", { class: "title" }, "most confused (true \u2192 predicted)"),
      tableOf(model.get("pairs"), ["true", "predicted", "count"], "pairs"));
    const right = el("div", { class: "examples" });
    const sel = model.get("selected");
    if (sel.length === 2) {
      const names = model.get("label_names");
      right.append(el("div", { class: "title" }, `true ${names[sel[0]]}, predicted ${names[sel[1]]}: worst first`),
        tableOf(model.get("examples"), ["index", "text", "confidence", "loss"], "sftkit-examples"));
    } else {
      right.append(el("div", {}, "click a cell to list its examples"));
    }
    root.replaceChildren(left, middle, right);
  };
  draw();
  const keys = ["matrix", "normalize", "order", "selected", "examples", "per_class", "pairs", "sort_by"];
  keys.forEach((k) => model.on(`change:${k}`, draw));
  return () => keys.forEach((k) => model.off(`change:${k}`, draw));
}

export default { render };
