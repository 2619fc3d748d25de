/**
 * The self-contained HTML report: every image inlined as a PNG data URI, no scripts, no external
 * files, so it opens from disk in any browser.
 */
import { type Box, boxIoU } from '../methods/attribution/localize.js';
import { escapeXml } from './grid.js';
import { drawBox, type RgbImage, resizeRgb } from './image.js';

export interface ReportMethod {
  name: string;
  title: string;
  reference: string;
  image: RgbImage;
  target: string;
  params: Record<string, unknown>;
  ms: number;
  diagnostics?: Record<string, unknown>;
}

export interface ReportSample {
  source: string;
  image: RgbImage;
  truth?: string;
  truthBox?: Box;
  top: { label: string; probability: number }[];
  /** The localisation box and the method it came from. */
  box?: { method: string; box: Box; threshold: number };
  methods: ReportMethod[];
}

export interface ReportData {
  title: string;
  /** Model facts shown in the header (name, dataset, accuracy, layer, …). */
  facts: [string, string][];
  samples: ReportSample[];
  skipped: Record<string, string>;
  /** HTML fragments appended after the samples (e.g. the faithfulness section), self-contained. */
  sections?: string[];
}

/** Encodes an image for inlining; PNG or JPEG bytes (the MIME type is read from the bytes). */
export type ImageEncoder = (img: RgbImage) => Promise<Uint8Array>;

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const esc = escapeXml;

function formatParams(p: Record<string, unknown>): string {
  const entries = Object.entries(p).filter(([, v]) => v !== undefined);
  return entries.length
    ? entries.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')
    : 'no parameters';
}

const STYLE = `
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:22px;margin:0 0 8px} h2{font-size:18px;margin:0 0 12px}
.facts{color:#555;font-size:13px;margin-bottom:20px} .facts span{margin-right:18px}
section.sample{background:#fff;border:1px solid #ddd;border-radius:8px;padding:16px;margin-bottom:24px}
.head{display:flex;gap:24px;align-items:flex-start;margin-bottom:16px;flex-wrap:wrap}
.head figure{margin:0} .head img{width:224px;height:auto;image-rendering:pixelated;border:1px solid #ccc}
table.top{border-collapse:collapse;font-size:13px} table.top td{padding:2px 8px;border-bottom:1px solid #eee}
table.top td.p{text-align:right;font-variant-numeric:tabular-nums} .bar{background:#4c78a8;height:8px;border-radius:2px}
.methods{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:14px}
figure.method{margin:0;background:#f6f6f6;border-radius:6px;padding:6px}
figure.method img{width:100%;height:auto;display:block;border-radius:4px}
figcaption{font-size:12px;margin-top:4px;line-height:1.35} figcaption b{font-size:13px}
.muted{color:#666} .skipped{font-size:12px;color:#8a5a00;margin-top:10px}
`;

export async function reportHtml(data: ReportData, encode: ImageEncoder): Promise<string> {
  const uri = async (img: RgbImage) => {
    const bytes = await encode(img);
    const mime = bytes[0] === 0xff && bytes[1] === 0xd8 ? 'image/jpeg' : 'image/png';
    return `data:${mime};base64,${base64(bytes)}`;
  };
  const parts: string[] = [];
  parts.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${esc(data.title)}</h1><div class="facts">${data.facts.map(([k, v]) => `<span><b>${esc(k)}</b> ${esc(v)}</span>`).join('')}</div>`,
  );
  for (const [i, s] of data.samples.entries()) {
    const scale = Math.max(1, Math.ceil(224 / Math.min(s.image.height, s.image.width)));
    const big = resizeRgb(s.image, s.image.height * scale, s.image.width * scale);
    const boxed = { ...big, data: Uint8Array.from(big.data) };
    if (s.truthBox) drawBox(boxed, s.truthBox, [255, 255, 255], Math.max(1, scale >> 1), scale);
    if (s.box) drawBox(boxed, s.box.box, [0, 220, 0], Math.max(1, scale >> 1), scale);
    const iou = s.box && s.truthBox ? boxIoU(s.box.box, s.truthBox) : undefined;
    const maxP = Math.max(...s.top.map((t) => t.probability));
    parts.push(
      `<section class="sample" data-sample="${i}"><h2>${esc(s.source)}${s.truth ? ` <span class="muted">(true class: ${esc(s.truth)})</span>` : ''}</h2><div class="head">`,
      `<figure><img class="input" alt="input ${esc(s.source)}" src="${await uri(big)}"><figcaption>input</figcaption></figure>`,
      `<figure><img class="localisation" alt="localisation box" src="${await uri(boxed)}"><figcaption>${
        s.box
          ? `<b>box</b> from ${esc(s.box.method)} at ${s.box.threshold} of max: [${s.box.box.join(', ')}] (green)${s.truthBox ? `; ground truth white, IoU ${iou!.toFixed(2)}` : ''}`
          : 'no localisation box (no CAM-family method ran, or its map is all zero)'
      }</figcaption></figure>`,
      `<table class="top"><caption><b>top-5</b></caption>${s.top
        .map(
          (t, k) =>
            `<tr class="prediction" data-rank="${k + 1}"><td>${esc(t.label)}</td><td class="p">${(100 * t.probability).toFixed(2)}%</td><td style="width:120px"><div class="bar" style="width:${((100 * t.probability) / maxP).toFixed(1)}%"></div></td></tr>`,
        )
        .join('')}</table></div><div class="methods">`,
    );
    for (const m of s.methods) {
      const diag =
        m.diagnostics && 'relativeDelta' in m.diagnostics
          ? `<br>completeness gap ${(100 * Number(m.diagnostics.relativeDelta)).toFixed(3)}%`
          : '';
      parts.push(
        `<figure class="method" data-method="${esc(m.name)}"><img alt="${esc(m.title)}" src="${await uri(m.image)}"><figcaption><b>${esc(m.title)}</b> <span class="muted">${m.ms.toFixed(0)} ms</span><br>${esc(m.target)}<br><span class="muted">${esc(formatParams(m.params))}; ${esc(m.reference)}</span>${diag}</figcaption></figure>`,
      );
    }
    parts.push('</div>');
    const skipped = Object.entries(data.skipped);
    if (skipped.length)
      parts.push(
        `<div class="skipped">${skipped.map(([k, v]) => `${esc(k)} skipped: ${esc(v)}`).join('<br>')}</div>`,
      );
    parts.push('</section>');
  }
  parts.push(...(data.sections ?? []), '</body></html>\n');
  return parts.join('');
}
