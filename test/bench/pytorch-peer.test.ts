// bench:train's PyTorch peer: its configuration string, the BLAS choice and the reference-BLAS
// check. A PyTorch on Debian's reference BLAS once made every published ratio several times too
// flattering (its linear layers were ~70% of its step): the bench must name that BLAS and warn.
import t from 'tap';
import { blasAlternatives, describeConfig, parseConfig, referenceBlas } from '../../bench/pytorch-peer.ts';

t.test('parseConfig reads every knob and leaves the rest at the baseline', (t) => {
  const c = parseConfig('threads=2,openblas=1,flush=1,cl=0');
  t.same(c, { threads: 2, openblas1: true, flushDenormal: true, channelsLast: false, blas: null });
  t.equal(parseConfig('blas=system').blas, null, 'blas=system is the loader default');
  t.throws(() => parseConfig('threads=0'), /positive integer/);
  t.throws(() => parseConfig('fast=1'), /unknown knob 'fast'/);
  t.throws(() => parseConfig('blas=no-such-blas'), /no BLAS 'no-such-blas' installed here \(installed: .*apt-get install libopenblas0-pthread/);
  t.end();
});

t.test('an installed BLAS alternative can be pinned and is named', (t) => {
  const installed = [...blasAlternatives().keys()];
  if (installed.length === 0) {
    t.comment('SKIP: no libblas.so.3 alternative is installed here (apt-get install libblas3 or libopenblas0-pthread)');
    t.pass('nothing to pin', { skip: 'no libblas.so.3 alternative is installed here' });
    return t.end();
  }
  const name = installed[0]!;
  const c = parseConfig(`blas=${name},threads=2`);
  t.equal(c.blas, name);
  t.match(describeConfig(c), new RegExp(`^BLAS ${name} \\+ set_num_threads\\(2\\)`));
  t.match(blasAlternatives().get(name)!, new RegExp(`^/usr/lib/[^/]+-linux-gnu/${name}$`));
  t.end();
});

t.test('referenceBlas tells the reference BLAS from optimised ones', (t) => {
  t.ok(referenceBlas('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'));
  t.notOk(referenceBlas('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 (OpenBLAS kernels: Cooperlake)'));
  t.notOk(referenceBlas('/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4'));
  t.end();
});
