import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CliError, parseFlags } from '../../src/cli/args.ts';
import { recipeFromFlags, TRAIN_FLAGS } from '../../src/cli/train.ts';

const BIN = join(import.meta.dirname, '../../bin/inkling.js');
const inkling = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

t.test('flag parsing: values, defaults, --no-x, and errors that name the fix', async (t) => {
  const { flags, given } = parseFlags('train', ['--epochs', '3', '--lr=0.01', '--no-eval', '--augment', 'light', '--out', 'm/x'], TRAIN_FLAGS);
  t.equal(flags.epochs, 3);
  t.equal(flags.lr, 0.01);
  t.equal(flags.eval, false);
  t.equal(flags.batch, 128, 'defaults fill absent flags');
  t.same([...given].sort(), ['augment', 'epochs', 'eval', 'lr', 'out']);
  const err = (argv: string[]) => {
    try {
      parseFlags('train', argv, TRAIN_FLAGS);
    } catch (e) {
      t.ok(e instanceof CliError);
      return (e as Error).message;
    }
    return 'no error';
  };
  t.match(err(['--epoch', '3']), /unknown flag --epoch \(did you mean --epochs\?\); see `inkling train --help`/);
  t.match(err(['--epochs', 'ten']), /--epochs expects a number >= 0.01 and <= 1000, got "ten"/);
  t.match(err(['--batch', '2.5']), /--batch expects an integer >= 1 and <= 8192, got "2.5"/);
  t.match(err(['--lr', '0']), /--lr expects a number > 0, got "0"/);
  t.match(err(['--optimizer', 'adamm']), /--optimizer must be one of adam, adamw, sgd, got "adamm" \(did you mean adam\?\)/);
  t.match(err(['--batch']), /--batch needs a value \(batch size\), e.g. --batch 128/);
  t.match(err(['--batch', '--lr', '1']), /--batch needs a value/);
  t.match(err(['models/x']), /unexpected argument "models\/x"/);
  t.match(err(['--seed', '1', '--seed', '2']), /--seed is given twice/);
});

t.test('recipes from flags: optimizer defaults, augmentation overrides', async (t) => {
  const parse = (argv: string[]) => recipeFromFlags(parseFlags('train', argv, TRAIN_FLAGS).flags);
  const adam = parse([]);
  t.equal(adam.optimizer, 'adam');
  t.equal(adam.lr, 3e-3);
  t.equal(adam.augmentPreset, 'default');
  t.equal(adam.augment.reframe, true);
  const sgd = parse(['--optimizer', 'sgd', '--augment', 'none', '--aug-rotate', '10']);
  t.equal(sgd.lr, 0.1);
  t.equal(sgd.weightDecay, 5e-4);
  t.equal(sgd.augment.rotateDeg, 10);
  t.equal(sgd.augment.affineP, 0, 'the preset keeps its probability');
  t.equal(parse(['--reframe', 'false']).augment.reframe, false);
});

t.test('the inkling command: exit codes and messages', async (t) => {
  const unknown = inkling('trian');
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /unknown command "trian"; commands: train, eval/);
  const badFlag = inkling('train', '--out', '/tmp/x', '--batchsize', '64');
  t.equal(badFlag.status, 2);
  t.match(badFlag.stderr, /inkling train: unknown flag --batchsize/);
  const noOut = inkling('train', '--epochs', '1');
  t.equal(noOut.status, 2);
  t.match(noOut.stderr, /--out DIR is required/);
  const missing = inkling('eval', '--model', '/nonexistent/model-dir');
  t.equal(missing.status, 1);
  t.match(missing.stderr, /no model card at \/nonexistent\/model-dir\/model.json: --model must be a folder written by `inkling train --out DIR`/);
  const help = inkling('train', '--help');
  t.equal(help.status, 0);
  t.match(help.stdout, /--aug-rotate X\s+max rotation, degrees/);
});
