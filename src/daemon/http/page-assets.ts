/** The status page's stylesheet (inline; allowed by its hash in the page's CSP). */
export const PAGE_STYLE = `
:root { font-family: system-ui, sans-serif; color: #1f2328; background: #f6f8fa; }
body { margin: 0 auto; max-width: 80rem; padding: 1rem 1.5rem; }
h1 { margin: 0 0 .5rem; font-size: 1.4rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 .5rem; }
h3 { margin: 0 0 .3rem; font-size: 1rem; }
code { font-family: ui-monospace, monospace; font-size: .85em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dt { color: #59636e; }
dd { margin: 0; }
.valid { color: #1a7f37; font-weight: 600; }
.invalid { color: #cf222e; font-weight: 600; }
.problems { border-left: 4px solid #cf222e; background: #ffebe9; padding: .3rem 1rem; margin: 1rem 0; }
.problems ul { padding-left: 1rem; }
.pipeline { list-style: none; display: flex; align-items: flex-start; gap: .5rem; padding: 0; margin: 0; overflow-x: auto; }
.column { display: flex; flex-direction: column; gap: .5rem; }
.arrow { align-self: center; font-size: 1.5rem; color: #59636e; }
.stage { background: #fff; border: 1px solid #d0d7de; border-top: 6px solid #8c959f; border-radius: 6px; padding: .6rem .8rem; min-width: 16rem; max-width: 28rem; overflow-wrap: anywhere; }
.stage dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .4rem 0 0; font-size: .9rem; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; color: #fff; background: #8c959f; font-weight: 600; }
.message { margin: .3rem 0; font-size: .9rem; white-space: pre-wrap; }
.since { display: block; color: #59636e; font-size: .8rem; }
.state-ready { border-top-color: #1a7f37; } .state-ready .badge { background: #1a7f37; }
.state-reconciling { border-top-color: #0969da; } .state-reconciling .badge { background: #0969da; }
.state-failed { border-top-color: #cf222e; } .state-failed .badge { background: #cf222e; }
.state-stalled { border-top-color: #82071e; } .state-stalled .badge { background: #82071e; }
.state-waiting-approval { border-top-color: #9a6700; } .state-waiting-approval .badge { background: #9a6700; }
.state-pinned { border-top-color: #8250df; } .state-pinned .badge { background: #8250df; }
.deploy-succeeded { color: #1a7f37; } .deploy-failed { color: #cf222e; }
.pending { border-top: 1px dashed #d0d7de; margin-top: .5rem; font-size: .9rem; }
.changes { list-style: none; padding: 0; margin: .2rem 0; }
.op-create code { color: #1a7f37; } .op-delete code, .data-loss code { color: #cf222e; } .op-update code { color: #9a6700; } .op-replace code { color: #bc4c00; }
.none, footer, .empty { color: #59636e; }
footer { margin-top: 2rem; font-size: .8rem; }
`;

/**
 * The status page's only script (inline; allowed by its hash): reloads the page soon after the
 * daemon reports an event on `/api/v1/events`. The page's meta refresh reloads it anyway.
 */
export const PAGE_SCRIPT = `
(function () {
  if (!window.EventSource) return;
  var events = new EventSource('api/v1/events');
  var timer = null;
  function reload() { clearTimeout(timer); timer = setTimeout(function () { location.reload(); }, 200); }
  ['synced', 'invalid', 'source-error', 'held', 'approved', 'retry'].forEach(function (type) { events.addEventListener(type, reload); });
  events.addEventListener('apply', function (e) {
    try { if (JSON.parse(e.data).event.type === 'progress') return; } catch (_) {}
    reload();
  });
})();
`;
