// Several models in one service: GET /api/models with cards, ?model=NAME, INKLING_MODEL as the
// default (and the log saying why), the log rows' model version and uncertain reason, "not a
// digit" answers from the shipped detector, and hot reload (POST /api/admin/reload) under a
// stream of requests without one dropped.
import t from 'tap';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startServer } from '../../src/server/server.ts';
import { startTestDatabase, makeTestModelDir, testConfig, Client } from './helpers.ts';
import { drawDigit, encode, SEVEN } from '../preprocess/images.ts';
import { blankCanvas, canvasPng, placeRandomly, renderText } from '../../training/ood/synthetic.ts';
import { FIT_FONTS } from '../../training/ood/fonts.ts';
import { SampleRng } from '../../training/rng.ts';

const ADMIN = 'admin-token-for-tests-0123456789';

async function letterPng(text: string): Promise<Buffer> {
  const c = blankCanvas();
  placeRandomly(c, await renderText(text, FIT_FONTS[3], 300), new SampleRng(text.charCodeAt(0)));
  return canvasPng(c);
}

t.test('models: list, choose, default by name, uncertain answers, hot reload', async (t) => {
  const db = await startTestDatabase();
  t.teardown(() => db.destroy());
  const root = mkdtempSync(join(tmpdir(), 'inkling-models-root-'));
  cpSync(await makeTestModelDir(), join(root, 'random'), { recursive: true });
  cpSync('models/seed-cnn', join(root, 'shipped'), { recursive: true });
  let logText = '';
  const logger = pino({ level: 'info' }, new Writable({ write(c, _e, done) { logText += c.toString(); done(); } }));
  const srv = await startServer(testConfig(db, { modelDir: root, model: 'random', adminToken: ADMIN }), { logger, exitWithParent: false });
  t.teardown(() => srv.close());
  t.match(logText, /serving random@[0-9a-f]{12} by default: INKLING_MODEL=random/, 'the log says which model is served and why');

  const c = new Client(srv.url);
  const list = (await c.req('GET', '/api/models')).json;
  t.equal(list.default, 'random');
  t.same(list.models.map((m: { name: string }) => m.name), ['random', 'shipped']);
  const shipped = list.models.find((m: { name: string }) => m.name === 'shipped');
  t.match(shipped.version, /^shipped@[0-9a-f]{12}$/);
  t.equal(shipped.card.architecture, 'seed-cnn', 'the card is included');
  t.ok(shipped.notADigitDetector.rates.rejectionHeldOutNonDigits >= 0.9, 'the detector and its measured rates');

  const seven = await encode(drawDigit(SEVEN, { width: 280, height: 280, box: { x: 70, y: 50, w: 140, h: 180 }, thickness: 18 }), 280, 280, 'png');
  const png = (b: Buffer) => ({ body: new Uint8Array(b), headers: { 'content-type': 'image/png' } });
  const byDefault = await c.req('POST', '/api/predictions', png(seven));
  t.equal(byDefault.status, 201);
  t.equal(byDefault.json.model, 'random');
  const chosen = await c.req('POST', '/api/predictions?model=shipped', png(seven));
  t.equal(chosen.json.model, 'shipped');
  t.equal(chosen.json.digit, 7);
  t.equal(chosen.json.uncertain, false, 'a drawn 7 is a digit');
  t.equal(chosen.json.modelVersion, shipped.version, 'the answer names the exact version');
  const unknown = await c.req('POST', '/api/predictions?model=nope', png(seven));
  t.equal(unknown.status, 404);
  t.match(unknown.json.error.message ?? JSON.stringify(unknown.json), /no model named "nope"; served models: random, shipped/);

  let flagged = 0;
  let lastFlagged: { id: string; reason: string } | null = null;
  for (const letter of ['A', 'K', 'M', 'W', 'X', 'R']) {
    const r = await c.req('POST', '/api/predictions?model=shipped', png(await letterPng(letter)));
    t.equal(r.status, 201);
    if (r.json.uncertain) {
      flagged++;
      t.equal(r.json.reason, 'not_a_digit');
      t.match(r.json.message, /does not look like one handwritten digit/);
      lastFlagged = r.json;
    }
  }
  t.ok(flagged >= 4, `${flagged} of 6 typed letters answered "uncertain"`);
  const stored = (await c.req('GET', `/api/predictions/${lastFlagged!.id}`)).json;
  t.equal(stored.reason, 'not_a_digit', 'the log row keeps the reason');
  t.equal(stored.modelVersion, shipped.version, 'and the model version');

  // Hot reload under load: a new model folder appears, another changes, one goes away.
  t.equal((await c.req('POST', '/api/admin/reload')).status, 403, 'reload needs the admin token');
  cpSync(join(root, 'shipped'), join(root, 'added'), { recursive: true });
  rmSync(join(root, 'random'), { recursive: true });
  const admin = new Client(srv.url, { authorization: `Bearer ${ADMIN}` });
  let stop = false;
  const statuses: number[] = [];
  const load = Array.from({ length: 4 }, async () => {
    while (!stop) statuses.push((await c.req('POST', '/api/predictions', png(seven))).status);
  });
  await new Promise((r) => setTimeout(r, 150));
  const before = statuses.length;
  const reload = await admin.req('POST', '/api/admin/reload');
  while (statuses.length < before + 20) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await Promise.all(load);
  t.equal(reload.status, 200);
  t.same(reload.json.added, ['added']);
  t.same(reload.json.removed, ['random']);
  t.match(reload.json.reason, /INKLING_MODEL=random is not loaded/);
  t.ok(statuses.length >= 20, `${statuses.length} requests around the reload`);
  t.same([...new Set(statuses)], [201], `every request answered 201: none dropped (${statuses.join(' ')})`);
  const after = (await c.req('GET', '/api/models')).json;
  t.same(after.models.map((m: { name: string }) => m.name), ['added', 'shipped']);
  t.match(logText, /models reloaded: added \[added\], changed \[\], removed \[random\]/);
});
