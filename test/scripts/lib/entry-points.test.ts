import { readFileSync } from 'node:fs';
import { ENTRY_POINTS, NODE_FLAGS, type ProcessKind } from '../../../scripts/lib/entry-points.js';

const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('process kinds', () => {
  it("are started by package.json's start scripts with their node flags", () => {
    for (const kind of Object.keys(ENTRY_POINTS) as ProcessKind[]) {
      const started = Object.entries(scripts).filter(
        ([name, command]) => name.startsWith('start:') && command.split(' ').includes(ENTRY_POINTS[kind]),
      );
      expect([kind, started.map(([, command]) => command)]).toEqual([
        kind,
        [['node', ...NODE_FLAGS[kind], ENTRY_POINTS[kind]].join(' ')],
      ]);
    }
  });
});
