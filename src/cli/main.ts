// The `inkling` command: a dispatcher. Each subcommand lives in its own file in this folder and
// exports `command: Command`; adding one is one line in COMMANDS. Errors meant for the user
// (CliError, bad flags, missing files) print as one line without a stack trace; exit code 2 for
// usage errors, 1 for failures.
import { CliError } from './args.ts';
import type { Command } from './command.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  train: { summary: 'train a model on MNIST and write a checkpoint folder', load: () => import('./train.ts').then((m) => m.command) },
  eval: { summary: 'evaluate a checkpoint: test figures, calibration, plots', load: () => import('./eval.ts').then((m) => m.command) },
  predict: { summary: 'classify image files (batched, no server): JSON lines or CSV', load: () => import('./predict.ts').then((m) => m.command) },
  export: { summary: 'export a model as ONNX', load: () => import('./export.ts').then((m) => m.command) },
  feedback: { summary: 'export labelled feedback as a data set (feedback export --out DIR)', load: () => import('./feedback.ts').then((m) => m.command) },
  ood: { summary: 'fit the "not a digit" detector of a model (ood fit --model DIR)', load: () => import('./ood.ts').then((m) => m.command) },
  serve: { summary: 'run the prediction service and web UI', load: () => import('./serve.ts').then((m) => m.command) },
  keys: { summary: 'create, list and revoke API keys for integrators', load: () => import('./keys.ts').then((m) => m.command) },
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return [
    'usage: inkling <command> [flags]   (inkling <command> --help for its flags; inkling --version)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(w)}${c.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    const { packageVersion } = await import('../paths.ts');
    process.stdout.write(`inkling ${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`inkling: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (inkling --help)\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`inkling ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`inkling ${name}: ${message}\n`);
    if (process.env.INKLING_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
