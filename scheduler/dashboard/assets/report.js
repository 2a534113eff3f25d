// weft performance report: renders the data in #weft-report-data (written
// by scheduler/dashboard/report.cc). Built into the file; fetches nothing.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("weft-report-data").textContent);
  function $(id) { return document.getElementById(id); }
  var cell = weftTables.cell, num = weftTables.num;
  function fill(id, items, row, emptyText) {
    weftTables.fill($(id).tBodies[0], items, row, emptyText);
  }
  function secs(s) { return weftStream.fmtDuration(s * 1e6); }
  function pct(f) { return (100 * f).toFixed(1) + "%"; }

  $("runtime").textContent = data.runtime;
  $("when").textContent = new Date(data.start_us / 1000).toISOString()
      .replace("T", " ").replace(/\..*/, " UTC");
  var s = data.summary;
  [["duration", secs(s.seconds)], ["task runs", num(s.runs)],
   ["failed", num(s.failed)], ["workers", num(s.workers)],
   ["transfers", num(s.transfers)], ["utilisation", pct(s.utilisation)]]
    .forEach(function (item) {
      var div = document.createElement("div");
      var b = document.createElement("b");
      b.textContent = item[1];
      div.appendChild(b);
      div.appendChild(document.createTextNode(item[0]));
      div.id = "summary-" + item[0].replace(" ", "-");
      $("summary").appendChild(div);
    });
  if (data.dropped > 0) {
    var warn = document.createElement("div");
    warn.className = "error";
    warn.textContent = num(data.dropped) + " events could not be recorded " +
        "(the scheduler's buffer overflowed between reads)";
    $("summary").appendChild(warn);
  }

  var total = data.functions.reduce(function (a, f) { return a + f.total_seconds; }, 0) || 1;
  fill("functions", data.functions, function (tr, f) {
    tr.className = "function-row";
    tr.dataset.function = f.function;
    var name = cell(tr, f.function);
    name.style.borderLeft = "4px solid " + weftStream.colorOf(f.function);
    name.style.paddingLeft = "6px";
    cell(tr, num(f.runs), "num");
    cell(tr, num(f.failed), "num");
    cell(tr, secs(f.total_seconds), "num");
    cell(tr, secs(f.mean_seconds), "num");
    cell(tr, secs(f.max_seconds), "num");
    weftTables.bar(tr, [["run", f.total_seconds / total]]);
  }, "no task ran");
  fill("workers", data.workers, function (tr, w) {
    tr.className = "worker-row";
    cell(tr, w.id);
    cell(tr, w.address || "(gone)");
    cell(tr, w.threads || "?", "num");
    cell(tr, num(w.runs), "num");
    cell(tr, secs(w.busy_seconds), "num");
    cell(tr, pct(w.utilisation), "num");
    weftTables.bar(tr, [["done", w.utilisation]]);
  }, "no workers");
  // The cells of a transfer path's or link's stats (WriteStats in report.cc).
  function statsCells(tr, s) {
    cell(tr, num(s.count), 'num');
    cell(tr, weftStream.fmtBytes(s.bytes), 'num');
    cell(tr, secs(s.seconds), 'num');
  }
  fill("transfer-paths", data.transfer_paths, function (tr, p) {
    cell(tr, p.path.replace("_", " "));
    statsCells(tr, p);
  }, "no inputs moved between workers");
  fill("transfer-links", data.transfer_links, function (tr, l) {
    cell(tr, l.from);
    cell(tr, l.to);
    statsCells(tr, l);
  }, "—");
  fill("failures", data.failures, function (tr, f) {
    cell(tr, f.key);
    cell(tr, f.worker);
    cell(tr, f.type, "error");
    cell(tr, f.message).title = f.message;
  }, "none");

  var st = data.stream, functions = {};
  var model = {
    rows: st.rows, t0: data.start_us, t1: data.end_us, origin: data.start_us,
    tasks: st.tasks.map(function (t) {
      functions[t[3]] = true;
      return { row: t[0], start: t[1], end: t[2], fn: t[3], failed: t[4], key: t[5] };
    }),
    transfers: st.transfers.map(function (t) {
      return { row: t[0], start: t[1], end: t[2], bytes: t[3], path: t[4],
               from: t[5], object: t[6] };
    }),
  };
  function draw() { weftStream.draw($("task-stream"), model); }
  draw();
  window.addEventListener("resize", draw);
  weftStream.legend($("stream-legend"), Object.keys(functions).sort(),
                    st.transfers.length > 0);
  $("stream-note").textContent = st.omitted > 0
      ? "(the newest " + num(st.tasks.length) + " runs; " + num(st.omitted) +
        " earlier ones are counted in the tables)"
      : "";
  document.body.dataset.rendered = "1";
})();
