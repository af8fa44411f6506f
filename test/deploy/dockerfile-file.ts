/**
 * The Dockerfile as a list of stages of instructions (continuation lines joined, comments dropped),
 * enough for the tests to follow a target's FROM chain without a Docker engine.
 */
import { readFileSync } from 'node:fs';
import { ROOT } from './compose-file.js';

export const DOCKERFILE_PATH = `${ROOT}Dockerfile`;

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly name: string | undefined;
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
  /** The comment lines, for checks on what is deliberately left commented out. */
  readonly comments: readonly string[];
}

export function readDockerfile(path = DOCKERFILE_PATH): Dockerfile {
  const comments: string[] = [];
  const logical: string[] = [];
  let pending = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\s*#/.test(line)) {
      comments.push(line.replace(/^\s*#\s?/, ''));
      continue; // comments may sit between continuation lines
    }
    if (pending === '' && line.trim() === '') continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: { name: string | undefined; from: string; instructions: Instruction[] }[] = [];
  for (const text of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(text) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ').trim() };
    if (instruction.keyword === 'FROM') {
      const [, from = '', name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ name, from, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name = '', value = ''] = instruction.args.split('=');
        globalArgs[name] = value;
      }
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages, comments };
}

export function stage(dockerfile: Dockerfile, name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found)
    throw new Error(
      `the Dockerfile has no stage "${name}" (stages: ${dockerfile.stages.map((s) => s.name).join(', ')})`,
    );
  return found;
}

/** The stages an image built for `target` consists of, base first (FROM another stage chains on). */
export function chain(dockerfile: Dockerfile, target: string): Stage[] {
  const stages: Stage[] = [];
  for (
    let current: Stage | undefined = stage(dockerfile, target);
    current;
    current = dockerfile.stages.find((s) => s.name === current!.from)
  ) {
    stages.unshift(current);
  }
  return stages;
}

/** The instructions of `target`'s image in order, with the base image its chain starts from. */
export function instructionsOf(
  dockerfile: Dockerfile,
  target: string,
): { baseImage: string; instructions: Instruction[] } {
  const stages = chain(dockerfile, target);
  const base = stages[0]!.from.replace(
    /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/,
    (_, arg: string) => dockerfile.globalArgs[arg] ?? '',
  );
  return { baseImage: base, instructions: stages.flatMap((s) => s.instructions) };
}

/** `["a", "b"]` (exec form) or a shell string, as words. */
export function execForm(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return trimmed.split(/\s+/);
}
