import { describe, expect, it } from 'vitest';
import { aggregateEvaluations } from './aggregate.js';

describe('aggregateEvaluations', () => {
  it('averages each dimension over the evaluations that rated it and spreads the overall ratings', () => {
    const result = aggregateEvaluations('dr-li', 'h1', [
      [{ overall: 5, audioVideo: 2 }, { overall: 4 }],
      [],
      [{ overall: 1, audioVideo: 3, communication: 4, waitingTime: 5 }],
    ]);
    expect(result).toEqual({
      host: 'dr-li',
      issuer: 'h1',
      consults: 2,
      count: 3,
      dimensions: {
        overall: { count: 3, mean: 3.33 },
        audioVideo: { count: 2, mean: 2.5 },
        communication: { count: 1, mean: 4 },
        waitingTime: { count: 1, mean: 5 },
      },
      overallDistribution: { '1': 1, '2': 0, '3': 0, '4': 1, '5': 1 },
    });
  });

  it('has no means without evaluations', () => {
    const result = aggregateEvaluations('dr-li', null, []);
    expect([result.count, result.consults, result.dimensions.overall]).toEqual([0, 0, { count: 0, mean: null }]);
  });
});
