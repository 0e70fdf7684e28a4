/** What the plot needs of a sweep point (bench/overload.ts's SweepPoint has it). */
export interface SweepPoint {
  workload: string;
  mode: string;
  factor: number;
  goodputRps: number;
  p99AcceptedMs: number;
}

const W = 360;
const H = 220;
const PAD = { left: 56, right: 12, top: 28, bottom: 36 };
const COLORS: Record<string, string> = { off: '#c0392b', adaptive: '#1f6fb2' };

interface Panel {
  title: string;
  y: (p: SweepPoint) => number;
  log: boolean;
  unit: string;
}

/** Goodput and p99 of accepted answers against offered load, per workload, both modes: one SVG. */
export function sweepPlot(points: SweepPoint[], targetMs: number): string {
  const workloads = [...new Set(points.map((p) => p.workload))];
  const panels: Panel[] = [
    { title: `goodput (2xx within ${targetMs} ms)`, y: (p) => p.goodputRps, log: false, unit: 'req/s' },
    { title: 'p99 of accepted answers', y: (p) => Math.max(p.p99AcceptedMs, 0.1), log: true, unit: 'ms' },
  ];
  const parts: string[] = [];
  workloads.forEach((workload, row) => {
    panels.forEach((panel, col) => {
      const mine = points.filter((p) => p.workload === workload);
      parts.push(
        `<g transform="translate(${col * W},${row * H})">${chart(mine, panel, `${workload}: ${panel.title}`)}</g>`,
      );
    });
  });
  const legend = Object.entries(COLORS)
    .map(
      ([mode, color], i) =>
        `<g transform="translate(${PAD.left + i * 150},${workloads.length * H + 14})"><line x1="0" y1="-4" x2="24" y2="-4" stroke="${color}" stroke-width="2"/><text x="30" y="0">ADMISSION_MODE=${mode}</text></g>`,
    )
    .join('');
  const width = panels.length * W;
  const height = workloads.length * H + 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>${parts.join('')}${legend}</svg>\n`;
}

function chart(points: SweepPoint[], panel: Panel, title: string): string {
  const factors = [...new Set(points.map((p) => p.factor))].sort((a, b) => a - b);
  const values = points.map(panel.y);
  const maxY = niceMax(Math.max(...values, 1));
  const minY = panel.log ? Math.pow(10, Math.floor(Math.log10(Math.min(...values)))) : 0;
  const maxX = Math.max(...factors);
  const x = (f: number) => PAD.left + (f / maxX) * (W - PAD.left - PAD.right);
  const y = (v: number) => {
    const span = H - PAD.top - PAD.bottom;
    const t = panel.log
      ? (Math.log10(v) - Math.log10(minY)) / (Math.log10(maxY) - Math.log10(minY))
      : v / maxY;
    return H - PAD.bottom - t * span;
  };
  const ticksY = panel.log
    ? Array.from({ length: Math.round(Math.log10(maxY / minY)) + 1 }, (_, i) => minY * Math.pow(10, i))
    : [0, 0.25, 0.5, 0.75, 1].map((t) => t * maxY);
  const axes = [
    `<text x="${PAD.left}" y="14" font-weight="bold">${title}</text>`,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    ...factors.map((f) => `<text x="${x(f)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${f}x</text>`),
    `<text x="${(W + PAD.left) / 2}" y="${H - 6}" text-anchor="middle">offered load (x capacity)</text>`,
    ...ticksY.map(
      (v) =>
        `<line x1="${PAD.left}" y1="${y(v)}" x2="${W - PAD.right}" y2="${y(v)}" stroke="#ddd"/><text x="${PAD.left - 4}" y="${y(v) + 4}" text-anchor="end">${format(v)}</text>`,
    ),
    `<text x="12" y="${(H - PAD.bottom + PAD.top) / 2}" transform="rotate(-90 12 ${(H - PAD.bottom + PAD.top) / 2})" text-anchor="middle">${panel.unit}</text>`,
  ];
  const lines = Object.entries(COLORS).map(([mode, color]) => {
    const mine = points.filter((p) => p.mode === mode).sort((a, b) => a.factor - b.factor);
    const path = mine.map((p) => `${x(p.factor)},${y(panel.y(p))}`).join(' ');
    const dots = mine
      .map((p) => `<circle cx="${x(p.factor)}" cy="${y(panel.y(p))}" r="2.5" fill="${color}"/>`)
      .join('');
    return `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>${dots}`;
  });
  return [...axes, ...lines].join('');
}

function niceMax(v: number): number {
  const magnitude = Math.pow(10, Math.floor(Math.log10(v)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}

const format = (v: number) => (v >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v * 10) / 10));
