// weft: the tables of the live dashboard (dashboard.js) and of performance
// reports (report.js). Built into the binary.
//
//   weftTables.fill(tbody, items, row, emptyText)
//       // a row per item, filled by row(tr, item); when there are no
//       // items, one cell saying emptyText across the table
//   weftTables.cell(tr, value, cls)   // appends a <td>; returns it
//   weftTables.bar(tr, parts)         // appends a <td> holding a bar of
//                                     // [[cls, fraction], ...] segments
//   weftTables.num(n)                 // 1,234,567
var weftTables = (function () {
  "use strict";
  function cell(tr, value, cls) {
    var td = document.createElement("td");
    td.textContent = value;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function fill(tbody, items, row, emptyText) {
    tbody.textContent = "";
    if (items.length === 0) {
      var tr = document.createElement("tr");
      var td = cell(tr, emptyText, "empty");
      td.colSpan = tbody.parentNode.tHead.rows[0].cells.length;
      tbody.appendChild(tr);
      return;
    }
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      row(tr, item);
      tbody.appendChild(tr);
    });
  }
  function bar(tr, parts) {
    var box = document.createElement("div");
    box.className = "bar";
    parts.forEach(function (part) {
      var i = document.createElement("i");
      i.className = part[0];
      i.style.width = Math.max(0, Math.min(100, 100 * part[1])) + "%";
      box.appendChild(i);
    });
    var td = document.createElement("td");
    td.appendChild(box);
    tr.appendChild(td);
    return td;
  }
  function num(n) { return Number(n).toLocaleString("en-US"); }
  return { fill: fill, cell: cell, bar: bar, num: num };
})();
