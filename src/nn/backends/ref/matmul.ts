// C[m,n] = op(A)[m,k] · op(B)[k,n] (+ bias[n]) (then activation); out (+)= C.
// A is stored [m,k] (or [k,m] when transA); B is stored [k,n] (or [n,k] when transB).
// With accumulate, the activation applies to the new product only: out += act(A·B + bias).

import type { MatmulParams } from '../../backend.ts';
import { activate, type Num } from './numeric.ts';

export function matmul(a: Num, b: Num, bias: Num | null, out: Num, p: MatmulParams): void {
  const { m, n, k, transA, transB } = p;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0;
      for (let l = 0; l < k; l++) {
        const av = transA ? a[l * m + i] : a[i * k + l];
        const bv = transB ? b[j * k + l] : b[l * n + j];
        s += av * bv;
      }
      const v = activate(s, p.activation);
      out[i * n + j] = p.accumulate ? out[i * n + j] + v : v;
    }
  }
}
