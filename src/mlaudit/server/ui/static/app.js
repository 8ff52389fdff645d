// mlaudit UI: draws Plotly figures from <script type="application/json" class="figure"> blocks
// and adds the CSRF token to fetch() writes. No inline script anywhere (CSP: script-src 'self').
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }
  window.mlaudit = {
    post: function (url, body) {
      return fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify(body || {})
      });
    }
  };
  function draw() {
    var blocks = document.querySelectorAll('script[type="application/json"].figure');
    if (!blocks.length) return;
    if (!window.Plotly) {
      var s = document.createElement("script");
      s.src = "/static/plotly.min.js";
      s.onload = draw;
      document.head.appendChild(s);
      return;
    }
    blocks.forEach(function (block) {
      var target = document.getElementById(block.dataset.target);
      if (!target || target.dataset.drawn) return;
      var fig = JSON.parse(block.textContent);
      var layout = Object.assign({ autosize: true, margin: { t: 40, r: 20, b: 50, l: 60 } }, fig.layout || {});
      window.Plotly.newPlot(target, fig.data || [], layout, { responsive: true, displaylogo: false });
      target.dataset.drawn = "1";
      // a marker whose customdata is a local path is a link (the lineage graph)
      target.on("plotly_click", function (ev) {
        var p = ev && ev.points && ev.points[0];
        var href = p && p.customdata;
        if (typeof href === "string" && href.charAt(0) === "/" && href.charAt(1) !== "/") window.location.assign(href);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
