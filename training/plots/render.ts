// Writes a Scene as NAME.svg and NAME.png.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sceneToPng } from './raster.ts';
import type { Scene } from './scene.ts';
import { sceneToSvg } from './svg.ts';

export function writeChart(dir: string, name: string, scene: Scene): string[] {
  const svg = join(dir, `${name}.svg`);
  const png = join(dir, `${name}.png`);
  writeFileSync(svg, sceneToSvg(scene));
  writeFileSync(png, sceneToPng(scene));
  return [svg, png];
}
