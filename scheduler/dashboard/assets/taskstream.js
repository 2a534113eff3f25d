// weft: the task stream, drawn on a canvas. Shared by the live dashboard
// (dashboard.js) and performance reports (report.js); built into the binary.
//
//   weftStream.draw(canvas, {
//     rows: ["worker 1 · 0", ...],              // one per worker thread
//     tasks: [{row, start, end, fn, failed, key}],  // times in µs
//     transfers: [{row, start, end, bytes, path, from}],
//     t0, t1,                                     // the visible span (µs)
//   });
//
// A bar per task run, coloured by function (the same colour for the same
// name everywhere); failed runs are outlined in red; transfers (inputs
// fetched from another worker) are the thin bars along a row's top edge:
// red when streamed over the network, orange when mapped from a same-host
// worker's shared memory.
var weftStream = (function () {
  "use strict";
  var PALETTE = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
    "#9c755f", "#ff9da7", "#bab0ac", "#2f4b7c", "#a05195", "#665191",
    "#8cd17d", "#86bcb6", "#f1ce63", "#d4a6c8", "#499894", "#79706e",
  ];
  var TRANSFER = { network: "#d62728", shared_memory: "#ff9f1a" };
  var ROW = 16, LEFT = 112, TOP = 20;

  function colorOf(name) {
    var h = 2166136261;
    for (var i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 16777619) >>> 0;
    }
    return PALETTE[h % PALETTE.length];
  }

  function niceStep(span) {
    var raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }

  function fmtSeconds(us) {
    var s = us / 1e6;
    return Math.abs(s) >= 10 ? s.toFixed(0) + " s"
         : Math.abs(s) >= 1 ? s.toFixed(1) + " s"
         : (s * 1000).toFixed(s * 1000 >= 10 ? 0 : 1) + " ms";
  }

  function fmtDuration(us) {
    return us >= 1e6 ? (us / 1e6).toFixed(2) + " s"
         : us >= 1e3 ? (us / 1e3).toFixed(2) + " ms"
         : us.toFixed(0) + " µs";
  }

  function fmtBytes(b) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i ? b.toFixed(1) : b) + " " + units[i];
  }

  var tip = null;
  function tooltip() {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tip";
      document.body.appendChild(tip);
    }
    return tip;
  }

  function draw(canvas, model) {
    var rows = model.rows.length || 1;
    var cssWidth = canvas.clientWidth || 900;
    var cssHeight = TOP + rows * ROW + 4;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(cssWidth * ratio);
    canvas.height = Math.round(cssHeight * ratio);
    canvas.style.height = cssHeight + "px";
    var g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, cssWidth, cssHeight);
    var t0 = model.t0, t1 = Math.max(model.t1, model.t0 + 1);
    var width = cssWidth - LEFT - 6;
    var x = function (t) { return LEFT + (t - t0) / (t1 - t0) * width; };

    // Axis and row labels.
    g.font = "11px 'DejaVu Sans', sans-serif";
    g.fillStyle = "#667085";
    g.strokeStyle = "#e3e6ec";
    g.textBaseline = "middle";
    var step = niceStep(t1 - t0);
    for (var t = Math.ceil((t0 - model.origin) / step) * step + model.origin;
         t <= t1; t += step) {
      var px = x(t);
      g.beginPath(); g.moveTo(px, TOP - 4); g.lineTo(px, cssHeight); g.stroke();
      g.fillText(fmtSeconds(t - model.origin), px + 2, 8);
    }
    for (var r = 0; r < model.rows.length; r++) {
      var y = TOP + r * ROW;
      if (r % 2 === 1) { g.fillStyle = "#f7f8fa"; g.fillRect(LEFT, y, width, ROW); }
      g.fillStyle = "#667085";
      g.fillText(model.rows[r], 4, y + ROW / 2);
    }

    // Bars. Hit boxes are kept for the tooltip.
    var boxes = [];
    model.tasks.forEach(function (b) {
      if (b.end < t0 || b.start > t1) return;
      var x0 = Math.max(LEFT, x(b.start)), x1 = Math.min(LEFT + width, x(b.end));
      var w = Math.max(1, x1 - x0), y = TOP + b.row * ROW + 3;
      g.fillStyle = colorOf(b.fn);
      g.fillRect(x0, y, w, ROW - 5);
      if (b.failed) {
        g.strokeStyle = "#d62728"; g.lineWidth = 1.5;
        g.strokeRect(x0 + 0.5, y + 0.5, Math.max(1, w - 1), ROW - 6);
        g.lineWidth = 1;
      }
      boxes.push({ x0: x0, x1: x0 + w, y0: y, y1: y + ROW - 5,
                   text: b.key + "\n" + b.fn + (b.failed ? " (failed)" : "") +
                         "\n" + fmtDuration(b.end - b.start) });
    });
    (model.transfers || []).forEach(function (b) {
      if (b.end < t0 || b.start > t1) return;
      var x0 = Math.max(LEFT, x(b.start)), x1 = Math.min(LEFT + width, x(b.end));
      var w = Math.max(2, x1 - x0), y = TOP + b.row * ROW;
      g.fillStyle = TRANSFER[b.path] || TRANSFER.network;
      g.fillRect(x0, y, w, 3);
      boxes.push({ x0: x0, x1: x0 + w, y0: y - 1, y1: y + 4,
                   text: "transfer of object " + b.object + ": " +
                         fmtBytes(b.bytes) + " (" + b.path.replace("_", " ") +
                         ") from " + b.from + "\n" + fmtDuration(b.end - b.start) });
    });
    canvas._weftBoxes = boxes;
    if (!canvas._weftTip) {
      canvas._weftTip = true;
      canvas.addEventListener("mousemove", function (e) {
        var rect = canvas.getBoundingClientRect();
        var mx = e.clientX - rect.left, my = e.clientY - rect.top;
        var hit = null, list = canvas._weftBoxes || [];
        for (var i = list.length - 1; i >= 0; i--) {
          var b = list[i];
          if (mx >= b.x0 - 1 && mx <= b.x1 + 1 && my >= b.y0 && my <= b.y1) {
            hit = b; break;
          }
        }
        var t = tooltip();
        if (!hit) { t.style.display = "none"; return; }
        t.textContent = hit.text;
        t.style.left = (e.clientX + 12) + "px";
        t.style.top = (e.clientY + 12) + "px";
        t.style.display = "block";
      });
      canvas.addEventListener("mouseleave", function () {
        tooltip().style.display = "none";
      });
    }
  }

  // Fills `element` with a colour swatch per function and per transfer path.
  function legend(element, functions, transfers) {
    element.textContent = "";
    functions.forEach(function (fn) {
      var s = document.createElement("span");
      s.style.setProperty("--swatch", colorOf(fn));
      s.textContent = fn;
      element.appendChild(s);
    });
    if (transfers) {
      [["network", "transfer (network)"],
       ["shared_memory", "transfer (shared memory)"]].forEach(function (p) {
        var s = document.createElement("span");
        s.style.setProperty("--swatch", TRANSFER[p[0]]);
        s.textContent = p[1];
        element.appendChild(s);
      });
    }
  }

  return { draw: draw, legend: legend, colorOf: colorOf,
           fmtBytes: fmtBytes, fmtDuration: fmtDuration };
})();
