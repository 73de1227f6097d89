/**
 * Per-doctor figures from many consults' evaluations: how many, the mean of
 * each dimension over the evaluations that rated it, and how the overall
 * ratings spread. Pure, so it is tested without a server.
 */
import {
  EVALUATION_DIMENSIONS,
  type EvaluationAggregate,
  type EvaluationDimension,
  type StoredEvaluation,
} from '@huizhen/protocol';

type Ratings = Pick<StoredEvaluation, EvaluationDimension>;

export function aggregateEvaluations(
  host: string,
  issuer: string | null,
  consults: readonly (readonly Ratings[])[],
): EvaluationAggregate {
  const sums = Object.fromEntries(EVALUATION_DIMENSIONS.map((d) => [d, { count: 0, sum: 0 }])) as Record<
    EvaluationDimension,
    { count: number; sum: number }
  >;
  const overallDistribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  let count = 0;
  let rated = 0;
  for (const evaluations of consults) {
    if (evaluations.length === 0) continue;
    rated += 1;
    for (const e of evaluations) {
      count += 1;
      const key = String(e.overall) as keyof typeof overallDistribution;
      if (Object.hasOwn(overallDistribution, key)) overallDistribution[key] += 1;
      for (const d of EVALUATION_DIMENSIONS) {
        const value = e[d];
        if (value === undefined) continue;
        sums[d].count += 1;
        sums[d].sum += value;
      }
    }
  }
  const stats = (d: EvaluationDimension) => ({
    count: sums[d].count,
    mean: sums[d].count === 0 ? null : Math.round((sums[d].sum / sums[d].count) * 100) / 100,
  });
  return {
    host,
    issuer,
    consults: rated,
    count,
    dimensions: {
      overall: stats('overall'),
      audioVideo: stats('audioVideo'),
      communication: stats('communication'),
      waitingTime: stats('waitingTime'),
    },
    overallDistribution,
  };
}
