import type { Page } from 'playwright-core';
import { waitFor } from './wait-for.js';

export type Rgb = [number, number, number];

/** Opaque pixels of every canvas inside `selector` within a small distance of `rgb`: proof that a chart drew in that colour. */
export function ink(target: Page, selector: string, rgb: Rgb): Promise<number> {
  return target.evaluate(
    ({ selector, rgb }) => {
      let count = 0;
      for (const canvas of document.querySelectorAll<HTMLCanvasElement>(`${selector} canvas`)) {
        if (!canvas.width || !canvas.height) continue;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4) {
          if (
            data[i + 3]! > 200 &&
            Math.abs(data[i]! - rgb[0]) < 24 &&
            Math.abs(data[i + 1]! - rgb[1]) < 24 &&
            Math.abs(data[i + 2]! - rgb[2]) < 24
          )
            count++;
        }
      }
      return count;
    },
    { selector, rgb },
  );
}

/** Waits (charts draw on animation frames) until the chart shows at least `min` pixels of these colours. */
export const inked = (target: Page, selector: string, rgbs: Rgb[], min: number): Promise<number> =>
  waitFor(
    `${selector} to draw`,
    async () => {
      let total = 0;
      for (const rgb of rgbs) total += await ink(target, selector, rgb);
      return total >= min ? total : undefined;
    },
    5000,
  );
