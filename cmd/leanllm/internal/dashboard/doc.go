// Package dashboard is the web UI of `leanllm serve`: an overview with
// charts (calls, errors, cost and tokens over time, by model and by label,
// latency percentiles, delivery health), the events list with filters and
// paging, an event page, and trace pages drawing the execution tree.
//
// Pages are rendered on the server with html/template (every value is
// escaped for its context; no user input is ever rendered as raw HTML) and
// charts are inline SVG computed here. The CSS is embedded; the pages load
// nothing from elsewhere and run no script, and a Content-Security-Policy
// says so to the browser.
//
// With Protect, every page needs a valid key: an "Authorization: Bearer
// KEY" header, or a session cookie obtained by logging in with ?key=KEY (or
// the login form).
package dashboard
