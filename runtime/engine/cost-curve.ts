/**
 * Cost curves: the minimum of a few affine pieces in the input length n.
 *
 * A device advertises C(n) = min(own T(n) + queue, min over neighbours of link(n) + their C(n)).
 * Every term is affine in n, so C is a concave piecewise-affine function, sent as its pieces. The
 * envelope keeps only pieces that are the minimum somewhere on [1, maxSteps], so the list stays as
 * short as the number of distinct routes that can win.
 */
export interface Piece {
  /** ms per input step */
  slope: number;
  /** ms independent of the input length */
  intercept: number;
}

export type CostCurve = readonly Piece[];

export function evalPiece(p: Piece, n: number): number {
  return p.slope * n + p.intercept;
}

/** C(n); +Infinity for an empty curve (no route at all). */
export function evalCurve(curve: CostCurve, n: number): number {
  let best = Infinity;
  for (let i = 0; i < curve.length; i++) {
    const p = curve[i] as Piece;
    const v = p.slope * n + p.intercept;
    if (v < best) best = v;
  }
  return best;
}

/** Adds the same affine function to every piece (e.g. a link's cost in front of a neighbour's curve). */
export function shiftCurve(curve: CostCurve, add: Piece): Piece[] {
  return curve.map((p) => ({ slope: p.slope + add.slope, intercept: p.intercept + add.intercept }));
}

/**
 * The interval of n in [lo, hi] where piece i is the minimum of all pieces (ties go to the earlier
 * piece), or null if it never is.
 */
function winningInterval(pieces: readonly Piece[], i: number, lo: number, hi: number): [number, number] | null {
  const p = pieces[i] as Piece;
  let from = lo;
  let to = hi;
  for (let j = 0; j < pieces.length; j++) {
    if (j === i) continue;
    const q = pieces[j] as Piece;
    const ds = p.slope - q.slope;
    const di = q.intercept - p.intercept;
    // p(n) ≤ q(n)  ⇔  ds·n ≤ di (strict for a later piece that ties, so duplicates keep one copy)
    if (ds === 0) {
      if (di < 0 || (di === 0 && j < i)) return null;
      continue;
    }
    const x = di / ds;
    if (ds > 0) to = Math.min(to, x);
    else from = Math.max(from, x);
    if (from > to) return null;
  }
  return [from, to];
}

export interface EnvelopeOptions {
  /** Smallest n the curve will be evaluated at (default 1). */
  minSteps?: number;
  /** Largest n the curve will be evaluated at. */
  maxSteps: number;
  /** Most pieces to keep; pieces that win on the shortest stretch of n are dropped first (default 8). */
  maxPieces?: number;
}

/**
 * The lower envelope of the pieces over [minSteps, maxSteps], sorted by decreasing slope (the
 * piece that wins for short inputs first). Never above any input piece on that range, except where
 * maxPieces forces dropping a piece.
 */
export function lowerEnvelope(pieces: readonly Piece[], options: EnvelopeOptions): Piece[] {
  const lo = options.minSteps ?? 1;
  const hi = options.maxSteps;
  const finite = pieces.filter((p) => Number.isFinite(p.slope) && Number.isFinite(p.intercept));
  const kept: Array<{ piece: Piece; width: number }> = [];
  for (let i = 0; i < finite.length; i++) {
    const range = winningInterval(finite, i, lo, hi);
    if (range) kept.push({ piece: finite[i] as Piece, width: range[1] - range[0] });
  }
  const maxPieces = options.maxPieces ?? 8;
  if (kept.length > maxPieces) {
    kept.sort((a, b) => b.width - a.width);
    kept.length = maxPieces;
  }
  return kept.map((k) => ({ slope: k.piece.slope, intercept: k.piece.intercept })).sort((a, b) => b.slope - a.slope);
}
