/**
 * The Record Timeline's page: its style and, for `medalign timeline --html`, a self-contained static
 * page with the renderer bundle (dist/timelineView.js) and the model inlined. The view in the editor
 * uses the same style and bundle (client/src/timeline/timelineView.ts). No remote resource: the CSP
 * allows only the page's own nonce'd style and script.
 */
import { randomBytes } from 'node:crypto';
import { webviewHtml } from '../core/util/htmlPage';

/** The view's style: theme colours only from `--vscode-*` variables. */
export const TIMELINE_STYLE = `
:root { color-scheme: light dark; }
body { margin: 0; padding: 0 8px 12px; color: var(--vscode-foreground); background: transparent;
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
#message { padding: 12px 4px; color: var(--vscode-descriptionForeground); }
#message.broken { color: var(--vscode-errorForeground); }
#message a, #cuts a { color: var(--vscode-textLink-foreground); cursor: pointer; }
#title { font-size: 1.05em; margin: 8px 0 2px; font-weight: 600; word-break: break-all; }
#summary { color: var(--vscode-descriptionForeground); font-size: 0.92em; }
#kept-summary { color: var(--vscode-foreground); margin-top: 2px; }
#kept-summary.counting, #cuts td.counting { color: var(--vscode-descriptionForeground); font-style: italic; }
#problems { margin: 4px 0; padding-left: 16px; color: var(--vscode-editorWarning-foreground); font-size: 0.9em; }
#problems:empty { display: none; }
#toolbar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin: 6px 0 4px; }
#search { flex: 1 1 140px; min-width: 120px; }
#search-count { font-size: 0.9em; color: var(--vscode-descriptionForeground); flex-basis: 100%; order: 3; }
#search-count:empty { display: none; }
.buttons { display: flex; gap: 2px; }
#filters { display: flex; flex-wrap: wrap; gap: 0 8px; margin: 2px 0 6px; font-size: 0.9em; }
.swatch { display: inline-block; width: 8px; height: 8px; margin-right: 4px; border-radius: 1px;
  outline: 1px solid var(--vscode-contrastBorder, transparent); }
#plot { position: relative; width: 100%; overflow: hidden; border: 1px solid var(--vscode-widget-border, transparent); }
#canvas { display: block; cursor: grab; }
#canvas:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
#cut-labels, #break-labels, #step-labels { position: absolute; inset: 0; pointer-events: none; }
.step-label { position: absolute; transform: translateX(-50%); pointer-events: auto; cursor: pointer;
  font: inherit; font-size: 10px; line-height: 12px; min-width: 16px; padding: 0 3px; border-radius: 7px;
  font-variant-numeric: tabular-nums; font-weight: 600;
  color: var(--vscode-foreground); background: var(--vscode-editorWidget-background, var(--vscode-sideBar-background));
  border: 1.5px solid var(--vscode-widget-border, var(--vscode-contrastBorder, transparent)); }
.step-label.selected { color: var(--vscode-button-foreground); background: var(--vscode-button-background); }
.step-label:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.cut-label { position: absolute; transform: translateX(-50%); pointer-events: auto; cursor: pointer;
  font: inherit; font-size: 10px; line-height: 12px; padding: 0 3px; border-radius: 2px;
  color: var(--vscode-foreground); background: var(--vscode-editorWidget-background, var(--vscode-sideBar-background));
  border: 1px solid var(--vscode-widget-border, var(--vscode-contrastBorder, transparent)); }
.cut-label.own { color: var(--vscode-button-foreground); background: var(--vscode-button-background);
  border-color: var(--vscode-focusBorder); font-weight: 600; }
.cut-label:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.break-label { position: absolute; transform: translateX(-50%); font-size: 9px; padding: 0 2px;
  color: var(--vscode-descriptionForeground); background: var(--vscode-sideBar-background, var(--vscode-editor-background)); }
#tooltip { position: absolute; z-index: 2; max-width: 240px; padding: 4px 6px; font-size: 0.9em; pointer-events: none;
  color: var(--vscode-editorHoverWidget-foreground, var(--vscode-foreground));
  background: var(--vscode-editorHoverWidget-background, var(--vscode-editorWidget-background));
  border: 1px solid var(--vscode-editorHoverWidget-border, var(--vscode-widget-border)); white-space: pre-wrap; word-break: break-word; }
.tt-head, .d-head { font-weight: 600; }
.tt-muted { color: var(--vscode-descriptionForeground); }
.tt-preview, .d-preview { color: var(--vscode-descriptionForeground); }
#details { min-height: 2.6em; max-height: 8em; overflow: auto; margin: 4px 0; font-size: 0.92em; white-space: pre-wrap; word-break: break-word; }
#details .hint { color: var(--vscode-descriptionForeground); }
#query { margin: 6px 0; font-size: 0.92em; }
.terms { list-style: none; padding: 0; margin: 2px 0; display: flex; flex-wrap: wrap; gap: 4px; }
.terms li { padding: 0 4px; border-radius: 2px; border: 1px solid var(--vscode-widget-border, var(--vscode-contrastBorder, transparent)); }
.terms li.hit { background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.terms li.lost { border-color: var(--vscode-editorWarning-foreground); color: var(--vscode-editorWarning-foreground); }
.terms li.miss { color: var(--vscode-disabledForeground); text-decoration: line-through; }
#cuts, #steps { border-collapse: collapse; font-size: 0.9em; margin-top: 6px; width: 100%; }
#steps caption { text-align: left; color: var(--vscode-descriptionForeground); padding-bottom: 2px; }
#steps th, #steps td { text-align: left; padding: 1px 6px 1px 0; font-variant-numeric: tabular-nums; }
#steps th { color: var(--vscode-descriptionForeground); font-weight: normal; }
#steps a { color: var(--vscode-textLink-foreground); cursor: pointer; font-weight: 600; }
#steps tr.selected td { background: var(--vscode-list-inactiveSelectionBackground, transparent); }
#cuts caption { text-align: left; color: var(--vscode-descriptionForeground); padding-bottom: 2px; }
#cuts th, #cuts td { text-align: left; padding: 1px 6px 1px 0; font-variant-numeric: tabular-nums; }
#cuts th { color: var(--vscode-descriptionForeground); font-weight: normal; }
#cuts tr.own td { font-weight: 600; }
[hidden] { display: none !important; }
`;

/** Stand-ins for the theme variables on the static page (no editor sets them there). */
const STATIC_THEME = `
body { --vscode-font-family: system-ui, sans-serif; --vscode-font-size: 13px;
  --vscode-foreground: #1f1f1f; --vscode-descriptionForeground: #616161; --vscode-disabledForeground: #8b8b8b;
  --vscode-errorForeground: #c42b1c; --vscode-editorWarning-foreground: #b26c00; --vscode-focusBorder: #005fb8;
  --vscode-textLink-foreground: #005fb8; --vscode-widget-border: #d0d0d0; --vscode-sideBar-background: #ffffff;
  --vscode-editor-background: #ffffff; --vscode-editorWidget-background: #f8f8f8;
  --vscode-button-background: #005fb8; --vscode-button-foreground: #ffffff;
  --vscode-badge-background: #e0e0e0; --vscode-badge-foreground: #1f1f1f;
  --vscode-charts-blue: #1a85ff; --vscode-charts-green: #388a34; --vscode-charts-purple: #652d90;
  --vscode-charts-red: #e51400; --vscode-charts-orange: #d18616; --vscode-charts-yellow: #bf8803;
  --vscode-input-background: #ffffff; --vscode-input-foreground: #1f1f1f; --vscode-input-border: #cecece;
  --vscode-button-secondaryBackground: #e5e5e5; --vscode-button-secondaryForeground: #1f1f1f;
  --vscode-settings-textInputBackground: #ffffff; --vscode-settings-textInputForeground: #1f1f1f;
  --vscode-settings-textInputBorder: #cecece; --vscode-settings-checkboxBackground: #f8f8f8;
  --vscode-settings-checkboxForeground: #1f1f1f; --vscode-settings-checkboxBorder: #cecece;
  --vscode-input-placeholderForeground: #767676;
  background: #ffffff; }
@media (prefers-color-scheme: dark) {
  body { --vscode-foreground: #cccccc; --vscode-descriptionForeground: #9d9d9d; --vscode-disabledForeground: #6b6b6b;
    --vscode-errorForeground: #f85149; --vscode-editorWarning-foreground: #cca700; --vscode-focusBorder: #0078d4;
    --vscode-textLink-foreground: #4daafc; --vscode-widget-border: #454545; --vscode-sideBar-background: #181818;
    --vscode-editor-background: #1f1f1f; --vscode-editorWidget-background: #202020;
    --vscode-badge-background: #616161; --vscode-badge-foreground: #f8f8f8;
    --vscode-charts-blue: #3794ff; --vscode-charts-green: #89d185; --vscode-charts-purple: #b180d7;
    --vscode-charts-red: #f14c4c; --vscode-charts-orange: #d18616; --vscode-charts-yellow: #cca700;
    --vscode-input-background: #313131; --vscode-input-foreground: #cccccc; --vscode-input-border: #3c3c3c;
    --vscode-button-secondaryBackground: #313131; --vscode-button-secondaryForeground: #cccccc;
    --vscode-settings-textInputBackground: #313131; --vscode-settings-textInputForeground: #cccccc;
    --vscode-settings-textInputBorder: #3c3c3c; --vscode-settings-checkboxBackground: #313131;
    --vscode-settings-checkboxForeground: #cccccc; --vscode-settings-checkboxBorder: #3c3c3c;
    --vscode-input-placeholderForeground: #989898;
    background: #181818; }
}
`;

/** `<` as `\\u003c` so a record's `</script>` cannot end the data block (JSON stays valid). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The bundle as inline script text: a `</script` inside it (none today) could not end the element. */
export function inlineScript(bundle: string): string {
  return bundle.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A self-contained page (no remote resource, strict CSP with a nonce) that draws `model` with the
 * same renderer as the view. `bundle`: the text of dist/timelineView.js.
 */
export function staticTimelinePage(model: { record: string }, bundle: string): string {
  return (
    webviewHtml({
      nonce: randomBytes(16).toString('hex'),
      title: `Record timeline — ${model.record} (contains patient data)`,
      head: '<meta name="robots" content="noindex">',
      style: `${TIMELINE_STYLE}${STATIC_THEME}
body { max-width: 1200px; margin: 0 auto; padding: 8px 16px 24px; }
.phi { font-size: 0.9em; color: var(--vscode-editorWarning-foreground); margin: 8px 0 0; }`,
      bodyAttributes: 'data-mode="static"',
      body: `<p class="phi">This page contains patient data from ${escapeText(model.record)}. Keep it where the record may be kept.</p>
<div id="app"></div>
<script type="application/json" id="timeline-data">${jsonForScript(model)}</script>`,
      script: inlineScript(bundle),
    }) + '\n'
  );
}
