// The one flag parser of the project, shared by the subcommands, the benchmarks and the scripts:
// `--name value`, `--name=value`, `--flag`, `--no-flag`. Every mistake is a CliError whose message
// names the fix. A command whose help is not `inkling NAME --help` (a benchmark) passes its own.

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export type FlagSpec =
  | { type: 'string'; help: string; default?: string; metavar?: string }
  | { type: 'number'; help: string; default?: number; min?: number; max?: number; exclusiveMin?: boolean }
  | { type: 'int'; help: string; default?: number; min?: number; max?: number }
  | { type: 'enum'; help: string; values: readonly string[]; default?: string }
  | { type: 'boolean'; help: string; default?: boolean };

export type FlagValue = string | number | boolean | undefined;
export type ParsedFlags = Record<string, FlagValue>;

/** The value type a spec parses to. */
type ValueOf<S extends FlagSpec> = S extends { type: 'string' }
  ? string
  : S extends { type: 'number' | 'int' }
    ? number
    : S extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : boolean;

/** The parsed flags of a spec table, typed: a flag with a default is always set, others may be
 *  undefined. Tables declared with `defineFlags` keep their literal types, so a command reads
 *  `flags.epochs` as a number (and an enum as its union) without a cast. */
export type FlagValues<T extends Record<string, FlagSpec>> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

/** Declares a command's flag table, keeping each spec's literal type for parseFlags. */
export function defineFlags<const T extends Record<string, FlagSpec>>(specs: T): T {
  return specs;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

export function suggest(name: string, known: string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const k of known) {
    const dd = distance(name, k);
    if (dd < bestD) {
      bestD = dd;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : '';
}

function convert(command: string, name: string, spec: FlagSpec, raw: string): FlagValue {
  const bad = (what: string) => new CliError(`${command}: --${name} expects ${what}, got "${raw}"`);
  switch (spec.type) {
    case 'string':
      return raw;
    case 'boolean':
      if (['true', '1', 'yes', 'on'].includes(raw)) return true;
      if (['false', '0', 'no', 'off'].includes(raw)) return false;
      throw bad('true or false');
    case 'enum':
      if (!spec.values.includes(raw)) {
        const s = suggest(raw, [...spec.values]);
        throw new CliError(`${command}: --${name} must be one of ${spec.values.join(', ')}, got "${raw}"${s ? ` (did you mean ${s}?)` : ''}`);
      }
      return raw;
    case 'int':
    case 'number': {
      const v = Number(raw);
      const isInt = spec.type === 'int';
      const range = `${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` and <= ${spec.max}` : ''}`;
      const what = `${isInt ? 'an integer' : 'a number'}${range}`;
      if (raw.trim() === '' || !Number.isFinite(v) || (isInt && !Number.isInteger(v))) throw bad(what);
      if (spec.type === 'number' && spec.exclusiveMin && spec.min !== undefined && !(v > spec.min)) throw bad(`a number > ${spec.min}`);
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) throw bad(what);
      return v;
    }
  }
}

/**
 * Parses argv against the specs. Unknown flags, missing values, bad values and stray positional
 * arguments throw a CliError naming the fix. Defaults fill absent flags; `given` lists the
 * flags the user actually passed.
 */
export function parseFlags<T extends Record<string, FlagSpec>>(
  command: string, argv: string[], specs: T, help = `inkling ${command} --help`,
): { flags: FlagValues<T>; given: Set<string> } {
  const flags: ParsedFlags = {};
  const given = new Set<string>();
  const known = Object.keys(specs);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') || arg === '--') {
      throw new CliError(`${command}: unexpected argument "${arg}"; options are flags like --epochs 12 (see \`${help}\`)`);
    }
    let name = arg.slice(2);
    let raw: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      raw = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean' && raw === undefined) {
      name = name.slice(3);
      spec = specs[name];
      raw = 'false';
    }
    if (!spec) {
      const s = suggest(name, known);
      throw new CliError(`${command}: unknown flag --${name}${s ? ` (did you mean --${s}?)` : ''}; see \`${help}\` for the flags`);
    }
    if (given.has(name)) throw new CliError(`${command}: --${name} is given twice; keep one`);
    if (raw === undefined) {
      if (spec.type === 'boolean') {
        // `--flag`, or `--flag false` when a boolean literal follows.
        const next = argv[i + 1];
        if (next !== undefined && /^(true|false|yes|no|on|off|1|0)$/.test(next)) {
          raw = next;
          i++;
        } else {
          raw = 'true';
        }
      } else {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          throw new CliError(`${command}: --${name} needs a value (${spec.help}), e.g. --${name} ${exampleValue(spec)}`);
        }
        raw = next;
        i++;
      }
    }
    flags[name] = convert(command, name, spec, raw);
    given.add(name);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  }
  // convert() gave each flag its spec's type, and the defaults are of that type.
  return { flags: flags as FlagValues<T>, given };
}

function exampleValue(spec: FlagSpec): string {
  if (spec.default !== undefined) return String(spec.default);
  switch (spec.type) {
    case 'enum':
      return spec.values[0];
    case 'int':
      return String(spec.min ?? 1);
    case 'number':
      return String(spec.min ?? 0.1);
    case 'string':
      return spec.metavar ?? 'VALUE';
    default:
      return 'true';
  }
}

export function helpText(usage: string, specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const arg = s.type === 'boolean' ? '' : s.type === 'enum' ? ` ${s.values.join('|')}` : s.type === 'string' ? ` ${s.metavar ?? 'VALUE'}` : s.type === 'int' ? ' N' : ' X';
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    return [`  --${name}${arg}`, `${s.help}${def}`];
  });
  const w = Math.min(38, Math.max(...rows.map(([a]) => a.length)) + 2);
  return `${usage}\n\n${rows.map(([a, b]) => (a.length < w ? `${a.padEnd(w)}${b}` : `${a}\n${' '.repeat(w)}${b}`)).join('\n')}\n`;
}
