// Scene -> SVG text.
import type { Scene, Shape } from './scene.ts';

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const n = (v: number) => (Math.round(v * 100) / 100).toString();

function shapeToSvg(s: Shape): string {
  switch (s.kind) {
    case 'rect':
      return `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}" fill="${s.fill ?? 'none'}"${
        s.stroke ? ` stroke="${s.stroke}" stroke-width="${s.strokeWidth ?? 1}"` : ''
      }/>`;
    case 'line':
      return `<polyline points="${s.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="none" stroke="${s.stroke}" stroke-width="${s.width}" stroke-linejoin="round"${
        s.dash ? ' stroke-dasharray="6 4"' : ''
      }/>`;
    case 'circle':
      return `<circle cx="${n(s.x)}" cy="${n(s.y)}" r="${n(s.r)}" fill="${s.fill}"/>`;
    case 'text': {
      const transform = s.vertical ? ` transform="rotate(-90 ${n(s.x)} ${n(s.y)})"` : '';
      return `<text x="${n(s.x)}" y="${n(s.y)}" font-size="${s.size}" fill="${s.fill}" text-anchor="${s.anchor}" dominant-baseline="central"${
        s.bold ? ' font-weight="bold"' : ''
      }${transform}>${esc(s.text)}</text>`;
    }
  }
}

export function sceneToSvg(scene: Scene): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="${scene.background}"/>`,
    ...scene.shapes.map(shapeToSvg),
    '</svg>',
    '',
  ].join('\n');
}
