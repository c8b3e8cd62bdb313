/**
 * Standard normal distribution: CDF and quantile. Only what the trend tests need.
 */

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), plenty for p-values compared to 1e-3. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

/** P(Z <= z). */
export function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** Upper tail P(Z > z), computed without cancellation for large z. */
export function normalUpperTail(z: number): number {
  if (z > 5) {
    // Mills-ratio asymptotic: accurate to ~1% at z = 5 and better beyond, where erf would round to 1.
    const z2 = z * z;
    return (Math.exp(-z2 / 2) / (z * Math.sqrt(2 * Math.PI))) * (1 - 1 / z2 + 3 / (z2 * z2));
  }
  return 1 - normalCdf(z);
}

/** z such that P(Z <= z) = p, by Acklam's rational approximation (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  const q = (n: number[], x: number): number => n.reduce((acc, k) => acc * x + k, 0);
  if (p < lo) {
    const r = Math.sqrt(-2 * Math.log(p));
    return q(c, r) / (q(d, r) * r + 1);
  }
  if (p > 1 - lo) {
    const r = Math.sqrt(-2 * Math.log(1 - p));
    return -q(c, r) / (q(d, r) * r + 1);
  }
  const r = p - 0.5;
  const s = r * r;
  return (q(a, s) * r) / (q(b, s) * s + 1);
}
