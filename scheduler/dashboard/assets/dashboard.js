// weft dashboard: live views of a scheduler, from the server-sent events at
// "events" (one JSON update every half second; see updates.h for the
// fields). Built into the binary; nothing is fetched from elsewhere.
(function () {
  "use strict";
  var WINDOW_US = 15e6;         // the task stream shows the last 15 s
  var MAX_BARS = 30000;         // kept for drawing
  var STATE_COLORS = {
    waiting: "#c3c9d4", ready: "#9aa5b8", processing: "#2f6fde",
    memory: "#3a9d5d", erred: "#d64545", released: "#dfe3ea",
    cancelled: "#b07aa1",
  };

  var body = document.body;
  var updates = 0;
  var bars = [];       // {key, fn, worker, thread, start, end, failed}
  var transfers = [];  // {object, worker, thread, start, end, bytes, path, from}
  var skipped = 0;
  var last = null;
  var graphSignature = "";

  function $(id) { return document.getElementById(id); }
  function text(id, value) { $(id).textContent = value; }
  var cell = weftTables.cell, fill = weftTables.fill, num = weftTables.num;

  function apply(u) {
    updates++;
    body.dataset.updates = String(updates);
    if (body.dataset.firstDone === undefined) {
      body.dataset.firstDone = String(u.totals.done);
    }
    last = u;
    text("address", u.address);
    text("worker-count", num(u.totals.workers));
    text("tasks-done", num(u.totals.done));
    text("tasks-failed", num(u.totals.failed));
    text("throughput", num(Math.round(u.totals.throughput)));
    var moved = u.totals.bytes.inline + u.totals.bytes.shared_memory +
                u.totals.bytes.network;
    text("bytes-moved", weftStream.fmtBytes(moved));

    u.tasks.forEach(function (t) {
      bars.push({ key: t[0], fn: t[1], worker: t[2], thread: t[3],
                  start: t[4], end: t[5], failed: t[6] });
    });
    u.transfers.forEach(function (t) {
      transfers.push({ object: t[0], worker: t[1], thread: t[2], start: t[3],
                       end: t[4], bytes: t[5], path: t[6], from: t[7] });
    });
    skipped += u.skipped;
    var right = u.now_us;
    bars.forEach(function (b) { if (b.end > right) right = b.end; });
    var left = right - WINDOW_US;
    bars = bars.filter(function (b) { return b.end >= left; });
    if (bars.length > MAX_BARS) bars = bars.slice(bars.length - MAX_BARS);
    transfers = transfers.filter(function (b) { return b.end >= left; });
    drawStream(u, left, right);
    drawProgress(u);
    drawWorkers(u);
    drawFailures(u);
    drawGraph(u.graph);
  }

  function drawStream(u, left, right) {
    var rows = [], rowOf = {};
    function addRow(worker, thread) {
      var key = worker + ":" + thread;
      if (rowOf[key] === undefined) {
        rowOf[key] = rows.length;
        rows.push("worker " + worker + " · " + thread);
      }
      return rowOf[key];
    }
    u.workers.forEach(function (w) {
      for (var t = 0; t < w.threads; t++) addRow(w.id, t);
    });
    var functions = {};
    var model = {
      rows: rows, t0: left, t1: right, origin: right,
      tasks: bars.map(function (b) {
        functions[b.fn] = true;
        return { row: addRow(b.worker, b.thread), start: b.start, end: b.end,
                 fn: b.fn, failed: b.failed, key: b.key };
      }),
      transfers: transfers.map(function (b) {
        return { row: addRow(b.worker, b.thread), start: b.start, end: b.end,
                 bytes: b.bytes, path: b.path, from: b.from, object: b.object };
      }),
    };
    weftStream.draw($("task-stream"), model);
    weftStream.legend($("stream-legend"), Object.keys(functions).sort(),
                      transfers.length > 0);
    text("stream-note", skipped > 0
        ? "(last 15 s; busier than the page draws: " + num(skipped) +
          " runs not shown)"
        : "(last 15 s)");
  }

  function drawProgress(u) {
    fill($("progress").tBodies[0], u.progress, function (tr, p) {
      cell(tr, p.function);
      cell(tr, num(p.done), "num");
      cell(tr, num(p.running), "num");
      cell(tr, num(p.waiting), "num");
      cell(tr, num(p.failed), "num");
      var total = p.done + p.running + p.waiting + p.failed || 1;
      weftTables.bar(tr, [["done", p.done / total], ["run", p.running / total],
                          ["wait", p.waiting / total],
                          ["fail", p.failed / total]]);
    }, "no tasks yet");
  }

  function drawWorkers(u) {
    fill($("workers").tBodies[0], u.workers, function (tr, w) {
      tr.className = "worker-row";
      tr.dataset.address = w.address;
      cell(tr, w.id);
      cell(tr, w.address).title = w.host + ", pid " + w.pid;
      cell(tr, w.threads, "num");
      cell(tr, Math.round(100 * w.cpu) + "%", "num");
      cell(tr, weftStream.fmtBytes(w.rss_bytes), "num");
      cell(tr, weftStream.fmtBytes(w.held_bytes), "num");
      cell(tr, num(w.executing), "num");
      cell(tr, num(Math.max(0, w.processing - w.executing)), "num");
      cell(tr, num(w.objects), "num");
    }, "no workers connected");
  }

  function drawFailures(u) {
    var items = u.failures.slice().reverse().slice(0, 20);
    fill($("failures").tBodies[0], items, function (tr, f) {
      tr.className = "failure-row";
      cell(tr, f.key);
      cell(tr, f.worker, "num");
      cell(tr, f.type, "error");
      cell(tr, f.message).title = f.message;
    }, "none");
  }

  // A layered drawing: each task one column right of its deepest input.
  function drawGraph(graph) {
    var box = $("graph");
    if (!graph) {
      if (graphSignature !== "large") {
        box.textContent = "";
        text("graph-note", "(shown while the scheduler holds at most 500 tasks)");
        graphSignature = "large";
      }
      return;
    }
    var signature = JSON.stringify(graph);
    if (signature === graphSignature) return;
    graphSignature = signature;
    var n = graph.nodes.length;
    text("graph-note", n === 0 ? "(no tasks held)" : "(" + n + " records)");
    box.textContent = "";
    if (n === 0) return;
    var inputs = graph.nodes.map(function () { return []; });
    graph.edges.forEach(function (e) { inputs[e[1]].push(e[0]); });
    var depth = new Array(n).fill(-1);
    function depthOf(i, guard) {
      if (depth[i] >= 0) return depth[i];
      if (guard > n) return 0;
      var d = 0;
      inputs[i].forEach(function (j) { d = Math.max(d, depthOf(j, guard + 1) + 1); });
      return (depth[i] = d);
    }
    var layers = [];
    for (var i = 0; i < n; i++) {
      var d = depthOf(i, 0);
      (layers[d] = layers[d] || []).push(i);
    }
    var colW = 120, rowH = 22, width = Math.max(1, layers.length) * colW;
    var tallest = Math.max.apply(null, layers.map(function (l) { return l ? l.length : 0; }));
    var height = Math.max(1, tallest) * rowH + 10;
    var pos = [];
    layers.forEach(function (layer, d) {
      (layer || []).forEach(function (node, k) {
        pos[node] = { x: d * colW + 8, y: k * rowH + 8 +
                      (tallest - layer.length) * rowH / 2 };
      });
    });
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("height", Math.min(height, 420));
    graph.edges.forEach(function (e) {
      var a = pos[e[0]], b = pos[e[1]];
      var line = document.createElementNS(ns, "line");
      line.setAttribute("x1", a.x + 96); line.setAttribute("y1", a.y + 7);
      line.setAttribute("x2", b.x); line.setAttribute("y2", b.y + 7);
      line.setAttribute("stroke", "#b8bfcc");
      svg.appendChild(line);
    });
    graph.nodes.forEach(function (node, i) {
      var p = pos[i];
      var g = document.createElementNS(ns, "g");
      var rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", p.x); rect.setAttribute("y", p.y);
      rect.setAttribute("width", 96); rect.setAttribute("height", 14);
      rect.setAttribute("rx", 3);
      rect.setAttribute("fill", STATE_COLORS[node[3]] || "#ccc");
      var label = document.createElementNS(ns, "text");
      label.setAttribute("x", p.x + 4); label.setAttribute("y", p.y + 11);
      label.textContent = node[1].length > 14 ? node[1].slice(0, 13) + "…" : node[1];
      var title = document.createElementNS(ns, "title");
      title.textContent = node[0] + " (" + node[3] + ")";
      g.appendChild(rect); g.appendChild(label); g.appendChild(title);
      svg.appendChild(g);
    });
    box.appendChild(svg);
    var legend = document.createElement("div");
    legend.className = "legend";
    Object.keys(STATE_COLORS).forEach(function (s) {
      var span = document.createElement("span");
      span.style.setProperty("--swatch", STATE_COLORS[s]);
      span.textContent = s;
      legend.appendChild(span);
    });
    box.appendChild(legend);
  }

  function connect() {
    var source = new EventSource("events");
    source.onopen = function () {
      $("connection").textContent = "live";
      $("connection").className = "live ok";
    };
    source.onmessage = function (e) { apply(JSON.parse(e.data)); };
    source.onerror = function () {
      $("connection").textContent = "reconnecting";
      $("connection").className = "live bad";
    };
  }
  window.addEventListener("resize", function () {
    if (last) drawStream(last, last.now_us - WINDOW_US, last.now_us);
  });
  connect();
})();
