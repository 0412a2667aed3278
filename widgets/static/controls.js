// The monitor's chart controls: a native range input and checkbox, each with a visible label and an
// accessible name, so that they work from the keyboard and read well in a screen reader.
// Their words come from Python (`labels`, in the monitor's language).
function render({ model, el }) {
  const labels = model.get("labels") || {};
  const root = document.createElement("div");
  root.className = "sftkit-controls";
  const smoothLabel = document.createElement("label");
  smoothLabel.className = "sftkit-smoothing";
  const range = Object.assign(document.createElement("input"), { type: "range", min: "0", max: "0.99", step: "0.01" });
  range.setAttribute("aria-label", labels.smoothing_aria || labels.smoothing || "");
  const shown = document.createElement("output");
  smoothLabel.append(`${labels.smoothing || ""} `, range, " ", shown);
  const logLabel = document.createElement("label");
  logLabel.className = "sftkit-log";
  const box = Object.assign(document.createElement("input"), { type: "checkbox" });
  box.setAttribute("aria-label", labels.log || "");
  logLabel.append(box, ` ${labels.log || ""}`);
  root.append(smoothLabel, logLabel);
  el.appendChild(root);
  const sync = () => {
    range.value = String(model.get("smoothing"));
    shown.textContent = Number(model.get("smoothing")).toFixed(2);
    box.checked = model.get("log_scale");
  };
  sync();
  // The value shows while dragging; the model (and the redraw it causes) follows on release.
  range.addEventListener("input", () => { shown.textContent = Number(range.value).toFixed(2); });
  range.addEventListener("change", () => { model.set("smoothing", Number(range.value)); model.save_changes(); });
  box.addEventListener("change", () => { model.set("log_scale", box.checked); model.save_changes(); });
  model.on("change:smoothing", sync);
  model.on("change:log_scale", sync);
  return () => { model.off("change:smoothing", sync); model.off("change:log_scale", sync); };
}

export default { render };
