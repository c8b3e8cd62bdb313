/**
 * Residuals of the best continuous two-segment line ("hinge"): y = a + b·t + c·max(0, t − t_k), least
 * squares, over every interior breakpoint t_k.
 *
 * Why: the autocorrelation correction of the trend test must measure the noise, not how badly a single
 * straight line fits. A leak that starts inside the window (flat, then rising), or one whose series
 * bends at a full GC, leaves long runs of same-signed residuals around a straight line — which the
 * AR(1) and Hamed–Rao factors read as strong autocorrelation, inflating the variance up to ~20× and
 * keeping a clean, monotonic leak above alpha (measured: a 16 MB-per-window Buffer leak held at
 * p 0.005–0.05 for a whole window). One bend absorbs that misfit; slowly wandering noise still leaves
 * correlated residuals around any single bend, so it keeps its correction.
 */

/** Least-squares fit of y on the columns of X (3 columns at most), by the normal equations. */
function fit3(cols: readonly (readonly number[])[], y: readonly number[]): number[] | undefined {
  const p = cols.length;
  const a: number[][] = [];
  for (let i = 0; i < p; i++) {
    const row: number[] = [];
    for (let j = 0; j < p; j++) {
      let s = 0;
      const ci = cols[i] as readonly number[];
      const cj = cols[j] as readonly number[];
      for (let k = 0; k < y.length; k++) s += (ci[k] as number) * (cj[k] as number);
      row.push(s);
    }
    let s = 0;
    const ci = cols[i] as readonly number[];
    for (let k = 0; k < y.length; k++) s += (ci[k] as number) * (y[k] as number);
    row.push(s);
    a.push(row);
  }
  // Gaussian elimination with partial pivoting.
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs((a[r] as number[])[c] as number) > Math.abs((a[pivot] as number[])[c] as number)) pivot = r;
    [a[c], a[pivot]] = [a[pivot] as number[], a[c] as number[]];
    const rowC = a[c] as number[];
    const d = rowC[c] as number;
    if (Math.abs(d) < 1e-12) return undefined;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const rowR = a[r] as number[];
      const f = (rowR[c] as number) / d;
      for (let k = c; k <= p; k++) rowR[k] = (rowR[k] as number) - f * (rowC[k] as number);
    }
  }
  return a.map((row, i) => (row[p] as number) / (row[i] as number));
}

/** Residuals of the best hinge fit; the straight line's when no bend fits better (or n < 6). */
export function hingeResiduals(times: readonly number[], values: readonly number[]): number[] {
  const n = times.length;
  // Centre time and values: the normal equations on epoch seconds would lose all precision.
  const t0 = times[0] as number;
  const t = times.map((x) => x - t0);
  const mean = values.reduce((s, v) => s + v, 0) / Math.max(1, n);
  const y = values.map((v) => v - mean);
  const ones = t.map(() => 1);
  const residualsOf = (cols: number[][], coef: number[]): number[] =>
    y.map((v, k) => v - cols.reduce((s, col, j) => s + (coef[j] as number) * (col[k] as number), 0));
  const lineCoef = fit3([ones, t], y);
  let best = lineCoef ? residualsOf([ones, t], lineCoef) : y.slice();
  let bestSse = best.reduce((s, r) => s + r * r, 0);
  for (let k = 3; k <= n - 4; k++) {
    const tk = t[k] as number;
    const bend = t.map((x) => Math.max(0, x - tk));
    const coef = fit3([ones, t, bend], y);
    if (!coef) continue;
    const res = residualsOf([ones, t, bend], coef);
    const sse = res.reduce((s, r) => s + r * r, 0);
    if (sse < bestSse) {
      best = res;
      bestSse = sse;
    }
  }
  return best;
}
