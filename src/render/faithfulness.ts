/**
 * Faithfulness results for people: the methods × metrics table (markdown, terminal, HTML, best of
 * each column marked), line charts of the deletion and insertion curves and of the randomisation
 * curves, and a self-contained page with the charts inlined as SVG.
 */
import type * as vega from 'vega';
import { BETTER, type FaithfulnessReport, type RandomizationStage } from '../methods/evaluation/index.js';
import { escapeXml } from './grid.js';

/** Table columns: the summary key, its heading, and how to print it. */
const COLUMNS: { key: keyof typeof BETTER; title: string; percent?: boolean }[] = [
  { key: 'deletion', title: 'deletion AUC' },
  { key: 'insertion', title: 'insertion AUC' },
  { key: 'averageDrop', title: 'avg drop', percent: true },
  { key: 'increase', title: 'increase', percent: true },
  { key: 'roadMorf', title: 'ROAD MoRF' },
  { key: 'roadLerf', title: 'ROAD LeRF' },
  { key: 'roadGap', title: 'ROAD gap' },
  { key: 'pointing', title: 'pointing', percent: true },
  { key: 'energy', title: 'energy PG', percent: true },
  { key: 'cascading', title: 'cascading ρ' },
  { key: 'independent', title: 'independent ρ' },
  { key: 'dataRandomization', title: 'data rand. ρ' },
];

export interface FaithfulnessTable {
  header: string[];
  rows: string[][];
  /** Per row, the columns (1-based, after the method) holding that column's best value. */
  best: Set<number>[];
}

/**
 * The methods × metrics table: one column per summary number present, arrows for "better".
 *
 * @example
 * ```ts
 * const { header, rows } = faithfulnessTable(await evaluateFaithfulness(explainer, request));
 * ```
 */
export function faithfulnessTable(report: FaithfulnessReport): FaithfulnessTable {
  const columns = COLUMNS.filter((c) => report.rows.some((r) => r.scores[c.key] !== undefined));
  const header = ['method', ...columns.map((c) => `${c.title} ${BETTER[c.key] === 'lower' ? '↓' : '↑'}`)];
  const best: Set<number>[] = report.rows.map(() => new Set());
  for (const [j, c] of columns.entries()) {
    const values = report.rows.map((r) => r.scores[c.key]);
    const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (finite.length < 2 || finite.every((v) => v === finite[0])) continue;
    const target = BETTER[c.key] === 'lower' ? Math.min(...finite) : Math.max(...finite);
    values.forEach((v, i) => {
      if (v === target) best[i].add(j + 1);
    });
  }
  const rows = report.rows.map((r) => [
    r.method,
    ...columns.map((c) => {
      const v = r.scores[c.key];
      if (v === undefined || !Number.isFinite(v)) return '–';
      return c.percent ? `${(100 * v).toFixed(1)}%` : v.toFixed(3);
    }),
  ]);
  return { header, rows, best };
}

/** The table as GitHub markdown, best values in bold. */
export function faithfulnessMarkdown(report: FaithfulnessReport): string {
  const t = faithfulnessTable(report);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(t.header),
    line(t.header.map((_, j) => (j === 0 ? '---' : '---:'))),
    ...t.rows.map((r, i) => line(r.map((v, j) => (t.best[i].has(j) ? `**${v}**` : v)))),
  ].join('\n');
}

/** The table as aligned text for a terminal. */
export function faithfulnessText(report: FaithfulnessReport): string {
  const t = faithfulnessTable(report);
  const widths = t.header.map((h, j) => Math.max(h.length, ...t.rows.map((r) => r[j].length)) + 2);
  const line = (cells: string[]) =>
    cells.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join('');
  return [line(t.header), ...t.rows.map(line)].join('\n');
}

/** Tableau 10 and three more far from them: one distinct colour for each of the 13 methods. */
const COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1b1b1b',
  '#17becf',
  '#bcbd22',
];

export interface Series {
  name: string;
  x: readonly (number | string)[];
  y: readonly number[];
}

/** Lines over a numeric or ordinal x axis, one colour per series. */
export function linesSpec(
  series: readonly Series[],
  options: { title: string; x: string; y: string; ordinal?: boolean; yDomain?: [number, number] },
): vega.Spec {
  const values = series.flatMap((s) => s.x.map((x, k) => ({ series: s.name, x, y: s.y[k], k })));
  const names = series.map((s) => s.name);
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    padding: 8,
    width: 360,
    height: 220,
    title: { text: options.title, anchor: 'start' },
    data: [{ name: 'points', values }],
    scales: [
      options.ordinal
        ? {
            name: 'x',
            type: 'point',
            domain: [...new Set(series.flatMap((s) => s.x.map(String)))],
            range: 'width',
          }
        : { name: 'x', type: 'linear', domain: { data: 'points', field: 'x' }, range: 'width', nice: false },
      {
        name: 'y',
        type: 'linear',
        domain: options.yDomain ?? { data: 'points', field: 'y' },
        range: 'height',
        nice: true,
        zero: false,
      },
      { name: 'colour', type: 'ordinal', domain: names, range: COLOURS },
    ],
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        title: options.x,
        ...(options.ordinal ? { labelAngle: -35, labelAlign: 'right' as const } : {}),
      },
      { orient: 'left', scale: 'y', title: options.y },
    ],
    legends: [{ stroke: 'colour', title: 'method', symbolType: 'stroke' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'line', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'line' },
            sort: { field: 'datum.k' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                stroke: { scale: 'colour', field: 'series' },
                strokeWidth: { value: 1.6 },
              },
            },
          },
        ],
      },
    ],
  } as vega.Spec;
}

/** The x labels of a randomisation walk: the layer randomised last at each stage. */
function stageLabels(stages: readonly RandomizationStage[], mode: 'cascading' | 'independent'): string[] {
  return stages.map((s, k) =>
    mode === 'cascading' ? `${k === 0 ? '' : '→ '}${s.randomized[s.randomized.length - 1]}` : s.randomized[0],
  );
}

/**
 * Every chart a report has, titled, in reading order.
 *
 * @example
 * ```ts
 * for (const c of faithfulnessCharts(report)) writeFileSync(`${c.name}.svg`, await chartSvg(c.spec));
 * ```
 */
export function faithfulnessCharts(report: FaithfulnessReport): { name: string; spec: vega.Spec }[] {
  const charts: { name: string; spec: vega.Spec }[] = [];
  for (const kind of ['deletion', 'insertion'] as const) {
    const rows = report.rows.filter((r) => r[kind]);
    if (rows.length === 0) continue;
    charts.push({
      name: kind,
      spec: linesSpec(
        rows.map((r) => ({ name: r.method, x: r[kind]!.fractions, y: r[kind]!.mean })),
        {
          title: `${kind}: mean ${String(report.params.score)} of the target over ${report.samples} images`,
          x: `fraction of pixels ${kind === 'deletion' ? 'removed' : 'inserted'}, most relevant first`,
          y: String(report.params.score),
        },
      ),
    });
  }
  for (const mode of ['cascading', 'independent'] as const) {
    const stages = report[mode];
    if (!stages?.length) continue;
    const labels = stageLabels(stages, mode);
    charts.push({
      name: mode,
      spec: linesSpec(
        report.methods
          .filter((m) => stages[0].methods[m])
          .map((m) => ({
            name: m,
            x: ['original', ...labels],
            y: [1, ...stages.map((s) => s.methods[m].spearmanAbs)],
          })),
        {
          title: `${mode} randomisation: rank correlation of |map| with the original`,
          x: mode === 'cascading' ? 'layers randomised, from the output down' : 'the one layer randomised',
          y: 'Spearman ρ of |map|',
          ordinal: true,
          yDomain: [-0.2, 1],
        },
      ),
    });
  }
  return charts;
}

const PAGE_STYLE = `
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:22px;margin:0 0 8px} h2{font-size:18px;margin:16px 0 8px}
.facts{color:#555;font-size:13px;margin-bottom:16px} .facts span{margin-right:18px}
`;

const SECTION_STYLE = `
table.faithfulness{border-collapse:collapse;font-size:13px;background:#fff}
table.faithfulness th,table.faithfulness td{padding:4px 8px;border-bottom:1px solid #e4e4e4;text-align:right}
table.faithfulness td:first-child,table.faithfulness th:first-child{text-align:left}
table.faithfulness td.best{font-weight:700;background:#eef6ee}
section.faithfulness .charts{display:flex;flex-wrap:wrap;gap:16px;margin-top:12px} section.faithfulness .charts figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px}
section.faithfulness .note{font-size:12px;color:#666;max-width:960px}
`;

/** One label when every image has the same target, else how many distinct ones. */
function targetText(labels: readonly string[]): string {
  const distinct = new Set(labels);
  return distinct.size <= 1
    ? (labels[0] ?? '')
    : `${distinct.size} classes over the images (each its own target)`;
}

/** The table and the charts as an HTML fragment (no scripts; charts are inline SVG). */
export function faithfulnessSection(report: FaithfulnessReport, svgs: readonly string[]): string {
  const t = faithfulnessTable(report);
  const skipped = Object.entries(report.skipped);
  return [
    `<section class="faithfulness"><style>${SECTION_STYLE}</style><h2>Faithfulness</h2>`,
    `<table class="faithfulness"><tr>${t.header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`,
    ...t.rows.map(
      (r, i) =>
        `<tr data-method="${escapeXml(r[0])}">${r.map((v, j) => `<td${t.best[i].has(j) ? ' class="best"' : ''}>${escapeXml(v)}</td>`).join('')}</tr>`,
    ),
    '</table>',
    `<p class="note">${report.samples} images; target: ${escapeXml(targetText(report.target))}; score: ${escapeXml(String(report.params.score))}. Deletion and insertion: Petsiuk et al. 2018 (RISE §4.1); average drop and increase in confidence: Chattopadhyay et al. 2018 (§5.1); ROAD: Rong et al. 2022, gap = mean LeRF − MoRF; pointing game: Zhang et al. 2016, energy: Wang et al. 2020 (Score-CAM §4.2); cascading and independent: mean Spearman ρ of |map| with the original over the randomisation stages, data rand.: ρ of |map| with the maps of the same network trained on shuffled labels (Adebayo et al. 2018). Best of each column in bold.${skipped.length ? ` Skipped: ${skipped.map(([k, v]) => `${escapeXml(k)} (${escapeXml(v)})`).join('; ')}.` : ''}</p>`,
    `<div class="charts">${svgs.map((s) => `<figure>${s}</figure>`).join('')}</div></section>`,
  ].join('');
}

/** One self-contained page: the facts, the table and the charts. */
export function faithfulnessHtml(
  title: string,
  facts: [string, string][],
  report: FaithfulnessReport,
  svgs: readonly string[],
): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${PAGE_STYLE}</style></head><body><h1>${escapeXml(title)}</h1><div class="facts">${facts.map(([k, v]) => `<span><b>${escapeXml(k)}</b> ${escapeXml(v)}</span>`).join('')}</div>${faithfulnessSection(report, svgs)}</body></html>\n`;
}
