// KoopBoard's only script: send the CSRF token with every htmx request, move focus to
// error summaries so keyboard and screen-reader users notice them, and announce saves.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
    }
  });
  // htmx does not swap 4xx answers by default; 422 carries the form with its messages
  // and 409 the current values after a conflicting edit.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    // A 4xx the server retargeted (a failed CSRF check, a notification that is gone) is
    // meant to be shown where it says.
    var retargeted = status >= 400 && status < 500 && event.detail.xhr.getResponseHeader("HX-Retarget");
    if (status === 422 || status === 409 || retargeted) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    // event.target is the newly swapped element; detail.target may be the replaced one.
    var summary = event.target.querySelector(".error-summary, [data-focus-after-swap]");
    if (summary) {
      summary.focus();
    }
    // A live region that arrives with its text is often not read out: empty it and put
    // the text back a moment later, so "gespeichert" is announced as a change.
    document.querySelectorAll("[data-announce]").forEach(function (region) {
      var nodes = Array.prototype.slice.call(region.childNodes);
      region.removeAttribute("data-announce");
      region.replaceChildren();
      window.setTimeout(function () {
        region.replaceChildren.apply(region, nodes);
      }, 150);
    });
  });
})();
// The bell's disclosure (<details>): Escape closes it and returns focus to its button, a
// click elsewhere closes it. Without JavaScript it opens and closes by its button alone.
(function () {
  "use strict";
  function openBell() {
    return document.querySelector("details.bell[open]");
  }
  document.addEventListener("keydown", function (event) {
    var bell = openBell();
    if (event.key === "Escape" && bell) {
      bell.open = false;
      bell.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    var bell = openBell();
    if (bell && !bell.contains(event.target)) {
      bell.open = false;
    }
  });
})();
// Narrow screens stack wide tables (app.css): every cell gets its column's name as
// data-label, read from the table's column heads (colspan counted). Also after an htmx swap.
(function () {
  "use strict";
  function label(table) {
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) {
      return;
    }
    var names = [];
    Array.prototype.forEach.call(headRow.cells, function (cell) {
      var text = (cell.getAttribute("data-label") || cell.textContent).replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i += 1) {
        names.push(text);
      }
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr, tfoot tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (!cell.hasAttribute("data-label") && names[column] !== undefined) {
          cell.setAttribute("data-label", names[column]);
        }
        column += cell.colSpan || 1;
      });
    });
  }
  function labelAll(root) {
    if (root.tagName === "TABLE") {
      label(root);
    }
    Array.prototype.forEach.call(root.querySelectorAll("table"), label);
  }
  labelAll(document);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.target;
    labelAll(target.closest ? target.closest("table") || target : document);
  });
})();
