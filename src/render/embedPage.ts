/**
 * The embedding explorer: one self-contained HTML page (Vega inlined, thumbnails as data URIs) with
 * a scatter per embedding; hovering a point shows its image, index and class.
 */
import type * as vega from 'vega';
import { escapeXml } from './grid.js';

export interface EmbedPage {
  title: string;
  /** Lines of context under the title (model, layer, data, accuracies). */
  facts: [string, string][];
  charts: { name: string; spec: vega.Spec }[];
  /** Image data URIs, indexed by each point's `index`. */
  thumbnails: string[];
}

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** The page's HTML; `vegaScript` is the text of vega's browser build (build/vega.min.js). */
export function embedPageHtml(page: EmbedPage, vegaScript: string): string {
  const facts = page.facts
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`)
    .join('');
  const charts = page.charts
    .map((c, i) => `<section><h2>${escapeXml(c.name)}</h2><div class="chart" id="chart${i}"></div></section>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(page.title)}</title>
<style>
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;font-size:13px}th{text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:600}td{padding:2px 0}
section{display:inline-block;vertical-align:top;margin-right:24px}
#tip{position:fixed;pointer-events:none;display:none;background:#fff;border:1px solid #999;border-radius:4px;padding:6px;font-size:12px;box-shadow:0 2px 6px rgba(0,0,0,.2);z-index:10}
#tip img{display:block;width:96px;height:96px;image-rendering:pixelated;margin-bottom:4px}
</style></head><body>
<h1>${escapeXml(page.title)}</h1><table>${facts}</table>
${charts}
<div id="tip"><img alt=""><div class="text"></div></div>
<script>${vegaScript}</script>
<script>
const specs = ${scriptJson(page.charts.map((c) => c.spec))};
const thumbnails = ${scriptJson(page.thumbnails)};
const tip = document.getElementById('tip');
function tooltip(handler, event, item, value) {
  if (!value || value.index === undefined) { tip.style.display = 'none'; return; }
  tip.querySelector('img').src = thumbnails[value.index];
  tip.querySelector('.text').textContent = value.title + ' · class ' + value.class;
  tip.style.display = 'block';
  tip.style.left = (event.clientX + 14) + 'px';
  tip.style.top = (event.clientY + 14) + 'px';
}
window.convlensViews = specs.map((spec, i) =>
  new vega.View(vega.parse(spec), { renderer: 'svg', container: '#chart' + i, hover: true }).tooltip(tooltip));
Promise.all(window.convlensViews.map((v) => v.runAsync())).then(() => document.body.dataset.ready = 'yes');
</script></body></html>
`;
}
