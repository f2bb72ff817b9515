/** The physical memory map as an SVG picture: one bar, ranges coloured by kind, the lowmem/highmem line. */
import type { BootedMachine } from "../boot/machine.js";
import { hexPad } from "../boot/units.js";
import { physicalMap, type RangeKind } from "./physmap.js";

const COLORS: Record<RangeKind, string> = {
  free: "#cfe8cf",
  reserved: "#9aa5b1",
  cma: "#f2a541",
  pool: "#b084cc",
  "no-map": "#6b7280",
  dropped: "#e5e7eb",
  leak: "#d64545",
};

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const hex8 = (n: number) => hexPad(n, 8);

export function physmapSvg(m: BootedMachine): string {
  const ranges = physicalMap(m);
  const width = 1000;
  const barY = 60;
  const barH = 80;
  const lo = ranges[0]?.startPfn ?? 0;
  const hi = ranges[ranges.length - 1]?.endPfn ?? 1;
  const x = (pfn: number) => 20 + ((pfn - lo) / (hi - lo)) * (width - 40);
  const parts: string[] = [];
  parts.push(
    `<text x="20" y="30" font-family="sans-serif" font-size="16">Physical memory: kernel ${esc(m.profile.version)}, ${m.lpae ? "LPAE" : "non-LPAE"}, lowmem ends at ${hex8(m.armLowmemLimitPfn * 4096)}</text>`,
  );
  for (const r of ranges) {
    const w = Math.max(0.5, x(r.endPfn) - x(r.startPfn));
    parts.push(
      `<rect x="${x(r.startPfn).toFixed(2)}" y="${barY}" width="${w.toFixed(2)}" height="${barH}" fill="${COLORS[r.kind]}" stroke="#333" stroke-width="0.3"><title>${esc(`${hex8(r.startPfn * 4096)}-${hex8(r.endPfn * 4096 - 1)} ${r.label}`)}</title></rect>`,
    );
  }
  if (m.highmem && m.armLowmemLimitPfn > lo && m.armLowmemLimitPfn < hi) {
    const bx = x(m.armLowmemLimitPfn).toFixed(2);
    parts.push(
      `<line x1="${bx}" y1="${barY - 15}" x2="${bx}" y2="${barY + barH + 15}" stroke="#c00" stroke-width="2"/>`,
    );
    parts.push(
      `<text x="${bx}" y="${barY - 20}" font-family="sans-serif" font-size="12" fill="#c00" text-anchor="middle">lowmem | highmem</text>`,
    );
  }
  // a legend row and one labelled row per notable range (everything but free RAM)
  let y = barY + barH + 40;
  const kinds = [...new Set(ranges.map((r) => r.kind))];
  kinds.forEach((k, i) => {
    parts.push(
      `<rect x="${20 + i * 130}" y="${y - 12}" width="14" height="14" fill="${COLORS[k]}" stroke="#333"/>`,
    );
    parts.push(`<text x="${40 + i * 130}" y="${y}" font-family="sans-serif" font-size="12">${k}</text>`);
  });
  for (const r of ranges.filter((r) => r.kind !== "free")) {
    y += 18;
    parts.push(
      `<text x="20" y="${y}" font-family="monospace" font-size="12">${esc(`${hex8(r.startPfn * 4096)}-${hex8(r.endPfn * 4096 - 1)}  ${r.label}`)}</text>`,
    );
  }
  const height = y + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${parts.join("\n")}\n</svg>\n`;
}
