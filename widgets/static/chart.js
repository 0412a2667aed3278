// Line charts drawn from a spec the Python side computes (smoothing, downsampling and log scale
// happen there, once, so the live view and the saved static copy agree).
// spec = {panels: [{title, log, x_label, empty, series: [{name, color, dash, points: [[x, y], ...]}]}]}
// Every word drawn (title, axis label, the empty chart's note, series names) comes in the spec, in the
// widget's language: this file holds none of its own.
// All text goes in through textContent: names come from users (run names) and are never parsed as HTML.
const NS = "http://www.w3.org/2000/svg";
// The same colours as widgets/_html.py: lines at least 3:1 on white; all text is dark (TEXT).
const PALETTE = ["#1f77b4", "#c44e00", "#2c7f2c", "#d62728", "#8a5fb6", "#8c564b"];
const TEXT = "#1a1a1a", MUTED = "#595959", GRID = "#8c8c8c";

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = String(text);
  return el;
}

function fmt(v, digits) {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(2);
  return v.toFixed(digits);
}

function drawPanel(panel, width, height) {
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "sftkit-chart-panel",
    role: "img", "aria-label": panel.title, fill: TEXT });
  svg.appendChild(svgEl("text", { x: 4, y: 14, class: "title" }, panel.title));
  const log = !!panel.log;
  const pts = panel.series.flatMap((s) => s.points.filter((p) => !log || p[1] > 0));
  if (!pts.length) {
    svg.appendChild(svgEl("text", { x: width / 2, y: height / 2, "text-anchor": "middle", fill: MUTED },
      panel.empty || ""));
    return svg;
  }
  const ty = (y) => (log ? Math.log10(y) : y);
  let xLo = Math.min(...pts.map((p) => p[0])), xHi = Math.max(...pts.map((p) => p[0]));
  let yLo = Math.min(...pts.map((p) => ty(p[1]))), yHi = Math.max(...pts.map((p) => ty(p[1])));
  if (xHi <= xLo) xHi = xLo + 1;
  if (yHi <= yLo) yHi = yLo + 1e-9 + Math.abs(yLo) * 0.1;
  const x0 = 52, y0 = 22, pw = width - 64, ph = height - 44;
  const sx = (x) => x0 + (pw * (x - xLo)) / (xHi - xLo);
  const sy = (y) => y0 + ph * (1 - (ty(y) - yLo) / (yHi - yLo));
  svg.appendChild(svgEl("rect", { x: x0, y: y0, width: pw, height: ph, fill: "none", stroke: GRID }));
  for (const f of [0, 0.5, 1]) {
    const v = yLo + f * (yHi - yLo);
    svg.appendChild(svgEl("text", { x: x0 - 4, y: y0 + ph * (1 - f) + 4, "text-anchor": "end" }, fmt(log ? 10 ** v : v, 3)));
  }
  svg.appendChild(svgEl("text", { x: x0, y: height - 8 }, fmt(xLo, 0)));
  const xEnd = `${fmt(xHi, 0)} ${panel.x_label || ""}`;
  svg.appendChild(svgEl("text", { x: x0 + pw, y: height - 8, "text-anchor": "end" }, xEnd));
  panel.series.forEach((s, i) => {
    const color = s.color || PALETTE[i % PALETTE.length];
    const sp = s.points.filter((p) => !log || p[1] > 0);
    if (sp.length === 1) {
      svg.appendChild(svgEl("circle", { cx: sx(sp[0][0]), cy: sy(sp[0][1]), r: 3, fill: color }));
    } else if (sp.length > 1) {
      const line = svgEl("polyline", {
        fill: "none", stroke: color, "stroke-width": s.width || 1.5, class: "sftkit-series",
        points: sp.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" "),
      });
      if (s.dash) line.setAttribute("stroke-dasharray", "5 3");
      line.appendChild(svgEl("title", {}, s.name));
      svg.appendChild(line);
    }
  });
  return svg;
}

// The legend is HTML below the chart: it wraps, so any number of earlier runs stays inside the width.
function legendOf(panel, width) {
  const box = document.createElement("div");
  box.className = "sftkit-legend";
  box.style.maxWidth = `${width - 48}px`;  // after its 48px left margin: inside the chart
  panel.series.forEach((s, i) => {
    const item = document.createElement("span");
    item.className = "sftkit-legend-item";
    const sample = svgEl("svg", { width: 22, height: 10, "aria-hidden": "true" });
    const line = svgEl("line", { x1: 0, x2: 22, y1: 5, y2: 5, stroke: s.color || PALETTE[i % PALETTE.length], "stroke-width": 2.5 });
    if (s.dash) line.setAttribute("stroke-dasharray", "5 3");
    sample.appendChild(line);
    item.append(sample, document.createTextNode(` ${s.name}`));
    box.appendChild(item);
  });
  return box;
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "sftkit-chart tex2jax_ignore mathjax_ignore";
  el.appendChild(root);
  const draw = () => {
    const spec = model.get("spec") || { panels: [] };
    root.replaceChildren(...spec.panels.map((p) => {
      const figure = document.createElement("div");
      figure.className = "sftkit-chart-figure";
      figure.append(drawPanel(p, p.width || 520, p.height || 220), legendOf(p, p.width || 520));
      return figure;
    }));
    root.dataset.points = String(spec.panels.reduce((n, p) => n + p.series.reduce((m, s) => m + s.points.length, 0), 0));
    root.dataset.revision = String(model.get("revision"));
  };
  draw();
  model.on("change:spec", draw);
  return () => model.off("change:spec", draw);
}

export default { render };
