import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HuizhenError,
  MAX_EVALUATION_COMMENT,
  commentProblem,
  consultSummary,
  evaluationAggregate,
  evaluationInput,
  parseEvaluation,
  parseWith,
  storedEvaluation,
} from './index.js';

const refusal = (value: unknown): string => {
  try {
    parseEvaluation(value);
  } catch (err) {
    expect(err).toBeInstanceOf(HuizhenError);
    expect((err as HuizhenError).code).toBe(ErrorCode.INVALID_REQUEST);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('evaluation input', () => {
  it('accepts the overall rating alone, or every dimension and a comment', () => {
    expect(parseEvaluation({ overall: 5 })).toEqual({ overall: 5 });
    const full = { overall: 4, audioVideo: 3, communication: 5, waitingTime: 1, comment: '医生很耐心。\nThank you!' };
    expect(parseEvaluation(full)).toEqual(full);
  });

  it('needs an overall rating, whole stars from 1 to 5', () => {
    expect(refusal({})).toBe('overall: is required');
    expect(refusal({ overall: 0 })).toBe('overall: must be >= 1');
    expect(refusal({ overall: 6 })).toBe('overall: must be <= 5');
    expect(refusal({ overall: 4.5 })).toBe('overall: must be an integer');
    expect(refusal({ overall: '5' })).toBe('overall: expected finite number, got string');
    expect(refusal({ overall: 5, waitingTime: 0 })).toBe('waitingTime: must be >= 1');
    expect(refusal({ overall: 5, audioVideo: null })).toMatch(/^audioVideo: /);
    expect(refusal(null)).toMatch(/expected object/);
  });

  it('refuses fields it does not know', () => {
    expect(refusal({ overall: 5, doctor: 'dr-li' })).toBe('doctor: is not a known field');
  });

  it('bounds the comment and refuses control characters instead of cleaning them', () => {
    const longest = '好'.repeat(MAX_EVALUATION_COMMENT);
    expect(parseEvaluation({ overall: 3, comment: longest }).comment).toHaveLength(1000);
    expect(refusal({ overall: 3, comment: `${longest}!` })).toBe('comment: must be at most 1000 characters');
    for (const bad of [
      'a\u0000b',
      'bell\u0007',
      'esc\u001b[31m',
      'del\u007f',
      'c1\u0085',
      'rtl\u202eevil',
      'iso\u2066x',
    ])
      expect(refusal({ overall: 3, comment: bad })).toBe('comment: must be plain text without control characters');
    expect(refusal({ overall: 3, comment: 'lone \ud800 surrogate' })).toBe(
      'comment: must be plain text without control characters',
    );
    expect(refusal({ overall: 3, comment: '  \n ' })).toBe('comment: must not be empty (leave it out instead)');
    expect(refusal({ overall: 3, comment: 42 })).toMatch(/^comment: expected string/);
    // Tabs, line breaks and emoji are plain text.
    expect(commentProblem('line one\r\nline two\tand 👍')).toBeNull();
  });

  it('gives the same field-named sentence through the generic parser the server uses', () => {
    expect(() => parseWith(evaluationInput, { overall: 3, comment: 'x\u0000' }, 'body')).toThrow(
      'body.comment: must be plain text without control characters',
    );
  });
});

describe('evaluation answers', () => {
  it('parse what the server sends, keeping unknown fields out', () => {
    const stored = parseWith(storedEvaluation, {
      id: 'ev_1',
      room: 'r1',
      by: { identity: 'pt-1', name: 'Wang Fang', role: 'patient', issuer: 'h1' },
      submittedAt: 1,
      overall: 5,
      later: true,
    });
    expect(stored).not.toHaveProperty('later');
    const stats = { count: 0, mean: null };
    expect(
      parseWith(evaluationAggregate, {
        host: 'dr-li',
        issuer: null,
        consults: 0,
        count: 0,
        dimensions: { overall: stats, audioVideo: stats, communication: stats, waitingTime: stats },
        overallDistribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 },
      }).count,
    ).toBe(0);
  });

  it('let a consult summary say how many evaluations it has, and older summaries without it still parse', () => {
    const room = {
      id: 'r1',
      kind: 'consult',
      state: 'ended',
      locked: false,
      host: 'dr-li',
      capacity: 6,
      createdAt: 1,
      startedAt: 2,
      endedAt: 3,
    };
    expect(parseWith(consultSummary, { room, durationSec: 1, participants: [], evaluations: 2 }).evaluations).toBe(2);
    expect(parseWith(consultSummary, { room, durationSec: 1, participants: [] }).evaluations).toBeUndefined();
  });
});
