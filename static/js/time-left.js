// Time left, kept current without a reload (progressive enhancement).
//
// The page is rendered with each clock's business time left. Every minute this script asks the
// server for the same figures again (a small JSON answer computed by the one SLA standing) and
// replaces the text; it does no arithmetic of its own, so business hours, pauses and breaches are
// always as the server sees them. Without JavaScript the page stays correct as of its rendering.
(function () {
  "use strict";

  function setText(scope, selector, text) {
    scope.querySelectorAll(selector).forEach(function (node) {
      if (text) {
        node.textContent = text;
        node.hidden = false;
      }
    });
  }

  function setState(scope, clock) {
    scope.querySelectorAll("[data-live='state']").forEach(function (badge) {
      badge.className = badge.className.replace(/\bsla-[a-z_]+\b/g, "").trim() + " sla-" + clock.state;
      badge.textContent = clock.state_label;
    });
  }

  function apply(scope, clock) {
    if (!clock) {
      return;
    }
    setText(scope, "[data-live='left']", clock.left);
    setText(scope, "[data-live='label']", clock.label);
    setState(scope, clock);
  }

  function refresh(root) {
    var url = root.getAttribute("data-time-left-url");
    if (root.hasAttribute("data-time-left-refs")) {
      var refs = Array.from(root.querySelectorAll("[data-ticket]")).map(function (node) {
        return "ref=" + encodeURIComponent(node.getAttribute("data-ticket"));
      });
      url += (url.indexOf("?") < 0 ? "?" : "&") + Array.from(new Set(refs)).join("&");
    }
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("time left: " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (data.clocks) {
          Object.keys(data.clocks).forEach(function (metric) {
            root.querySelectorAll("[data-metric='" + metric + "']").forEach(function (scope) {
              apply(scope, data.clocks[metric]);
            });
          });
        }
        if (data.tickets) {
          Object.keys(data.tickets).forEach(function (reference) {
            root.querySelectorAll("[data-ticket]").forEach(function (scope) {
              if (scope.getAttribute("data-ticket") === reference) {
                apply(scope, data.tickets[reference]);
              }
            });
          });
        }
        return (data.refresh_seconds || 60) * 1000;
      });
  }

  function start(root) {
    var delay = 60000;
    function tick() {
      if (document.hidden) {
        window.setTimeout(tick, delay);
        return;
      }
      refresh(root).then(
        function (next) {
          delay = next;
          window.setTimeout(tick, delay);
        },
        function () {
          // Signed out or offline: keep the server-rendered text, try again later.
          window.setTimeout(tick, delay * 5);
        }
      );
    }
    window.setTimeout(tick, delay);
  }

  document.querySelectorAll("[data-time-left-url]").forEach(start);
})();
