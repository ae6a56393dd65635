// A robust trend over a window of samples: the Theil–Sen slope (the median of
// the slopes between every two points, which a few outliers — a GC, a burst
// — cannot move) and the Mann–Kendall test for a monotonic trend, whose
// one-sided p-value gives the confidence that the series really grows.

export interface Point {
  /** Seconds. */
  t: number;
  y: number;
}

export interface Trend {
  /** Units of y per second. */
  slope: number;
  /** 0..1: the confidence that the series grows (1 - the one-sided p-value). */
  confidence: number;
  /** The fitted line's value at the first and last point (for plots). */
  from: Point;
  to: Point;
  n: number;
}

export function theilSen(points: Point[]): { slope: number; intercept: number } {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dt = points[j].t - points[i].t;
      if (dt !== 0) slopes.push((points[j].y - points[i].y) / dt);
    }
  }
  const slope = median(slopes);
  const intercept = median(points.map((p) => p.y - slope * p.t));
  return { slope, intercept };
}

/** Mann–Kendall: the normal approximation of S, with the correction for ties. */
export function growthConfidence(points: Point[]): number {
  const n = points.length;
  if (n < 3) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(points[j].y - points[i].y);
  const ties = new Map<number, number>();
  for (const p of points) ties.set(p.y, (ties.get(p.y) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) tieTerm += t * (t - 1) * (2 * t + 5);
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  if (variance <= 0) return 0;
  const z = s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0;
  return normalCdf(z);
}

export function trend(points: Point[]): Trend | undefined {
  if (points.length < 2) return undefined;
  const { slope, intercept } = theilSen(points);
  const first = points[0].t;
  const last = points[points.length - 1].t;
  return { slope, confidence: growthConfidence(points), from: { t: first, y: intercept + slope * first }, to: { t: last, y: intercept + slope * last }, n: points.length };
}

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The standard normal distribution function, through erfc (Numerical Recipes' Chebyshev fit, error below 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
