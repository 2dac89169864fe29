/** Hand-written SVG charts (no plotting dependency): small bar charts and percentile curves. */

export const COLORS: Record<string, string> = {
  sigcast: '#d62728',
  'raw-uws': '#7f7f7f',
  'ws-ioredis': '#1f77b4',
  socketio: '#2ca02c',
  soketi: '#9467bd',
};

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function formatNumber(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value >= 10 ? String(Math.round(value)) : String(Math.round(value * 100) / 100);
}

export interface Bar {
  label: string;
  value: number | undefined;
  note?: string;
}

/** A horizontal bar chart of one metric, one bar per system (missing values say why). */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const width = 460;
  const rowHeight = 22;
  const left = 90;
  const height = 34 + bars.length * rowHeight + 8;
  const max = Math.max(1e-9, ...bars.map((bar) => bar.value ?? 0));
  const rows = bars.map((bar, i) => {
    const y = 30 + i * rowHeight;
    const label = `<text x="${left - 6}" y="${y + 14}" text-anchor="end" font-size="12">${esc(bar.label)}</text>`;
    if (bar.value === undefined) {
      return `${label}<text x="${left}" y="${y + 14}" font-size="11" fill="#888">${esc(bar.note ?? 'n/a')}</text>`;
    }
    const w = Math.max(1, ((width - left - 80) * bar.value) / max);
    const color = COLORS[bar.label] ?? '#555';
    return (
      `${label}<rect x="${left}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${color}"/>` +
      `<text x="${left + w + 4}" y="${y + 14}" font-size="11">${formatNumber(bar.value)}${esc(bar.note ? ` ${bar.note}` : '')}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<text x="8" y="18" font-size="13" font-weight="bold">${esc(title)}</text>` +
    `<text x="${width - 8}" y="18" font-size="11" text-anchor="end" fill="#555">${esc(unit)}</text>` +
    rows.join('') +
    '</svg>'
  );
}

export interface Series {
  label: string;
  /** [percentile (50..100), ms] */
  curve: ReadonlyArray<readonly [number, number]>;
}

/** Latency by percentile: x is log(1 / (1 - p)) as in HdrHistogram plots, y is log ms. */
export function percentileChart(title: string, series: readonly Series[]): string {
  const width = 560;
  const height = 320;
  const pad = { left: 70, right: 110, top: 30, bottom: 40 };
  const xOf = (p: number): number => Math.log10(1 / Math.max(1e-5, 1 - Math.min(p, 99.999) / 100));
  const xMax = xOf(99.999);
  const values = series.flatMap((s) => s.curve.map(([, ms]) => Math.max(ms, 0.01)));
  const yMin = Math.floor(Math.log10(Math.min(...values, 1)));
  const yMax = Math.ceil(Math.log10(Math.max(...values, 1)) + 0.01);
  const px = (p: number): number => pad.left + ((width - pad.left - pad.right) * xOf(p)) / xMax;
  const py = (ms: number): number =>
    height - pad.bottom - ((height - pad.top - pad.bottom) * (Math.log10(Math.max(ms, 0.01)) - yMin)) / Math.max(1, yMax - yMin);
  const grid: string[] = [];
  for (const p of [50, 90, 99, 99.9, 99.99]) {
    grid.push(`<line x1="${px(p)}" y1="${pad.top}" x2="${px(p)}" y2="${height - pad.bottom}" stroke="#ddd"/>`);
    grid.push(`<text x="${px(p)}" y="${height - pad.bottom + 14}" font-size="11" text-anchor="middle">p${p}</text>`);
  }
  for (let e = yMin; e <= yMax; e++) {
    const y = py(10 ** e);
    grid.push(`<line x1="${pad.left}" y1="${y}" x2="${width - pad.right}" y2="${y}" stroke="#ddd"/>`);
    grid.push(`<text x="${pad.left - 4}" y="${y + 4}" font-size="11" text-anchor="end">${10 ** e} ms</text>`);
  }
  const lines = series.map((s, i) => {
    const color = COLORS[s.label] ?? '#555';
    const points = s.curve.map(([p, ms]) => `${px(p).toFixed(1)},${py(ms).toFixed(1)}`).join(' ');
    const legendY = pad.top + 14 + i * 16;
    return (
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>` +
      `<rect x="${width - pad.right + 10}" y="${legendY - 9}" width="10" height="10" fill="${color}"/>` +
      `<text x="${width - pad.right + 24}" y="${legendY}" font-size="11">${esc(s.label)}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<text x="8" y="18" font-size="13" font-weight="bold">${esc(title)}</text>` +
    grid.join('') +
    lines.join('') +
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" font-size="11" text-anchor="middle">percentile (max at the right end)</text>` +
    '</svg>'
  );
}
