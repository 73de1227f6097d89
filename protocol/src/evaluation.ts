/**
 * The patient's evaluation of a consult (在线评价): after the consult ended,
 * each patient or family member who was admitted to it rates it once.
 *
 * Ratings are whole stars, 1–5. `overall` is required; the other dimensions
 * may be skipped (a family member who only listened has no view on the
 * waiting time). The comment is optional plain text of at most
 * `MAX_EVALUATION_COMMENT` characters (UTF-16 code units, as a textarea's
 * `maxlength` counts them). A comment carrying control characters (other than
 * tab and line breaks), bidirectional overrides or broken surrogates is
 * *refused*, not silently cleaned: what the patient sees in the form is
 * exactly what the doctor reads, and the SDK checks before sending so the form
 * can say so. A comment of only white space counts as no comment and is
 * refused too (send none instead).
 *
 * Sent as the JSON body of `POST /api/rooms/:id/evaluation`; the answers below
 * are what the server sends back. Error sentences name the field, never the
 * text: comments may carry health details and error messages end up in logs.
 */
import * as z from 'zod/mini';
import { ErrorCode } from './errors.js';
import { HuizhenError } from './HuizhenError.js';
import { ProtocolValidationError, int, oneOf, parseWith, str } from './schema.js';
import { ROLES } from './constants.js';

/** What a patient rates: the consult overall, sound and picture, the doctor's communication, the wait. */
export const EVALUATION_DIMENSIONS = ['overall', 'audioVideo', 'communication', 'waitingTime'] as const;
/** One rated dimension. */
export type EvaluationDimension = (typeof EVALUATION_DIMENSIONS)[number];

/** The lowest rating (stars). */
export const MIN_RATING = 1;
/** The highest rating (stars). */
export const MAX_RATING = 5;
/** Longest comment, in UTF-16 code units. */
export const MAX_EVALUATION_COMMENT = 1000;

/**
 * C0 controls but tab, LF and CR; DEL and C1; bidi embeddings, overrides and
 * isolates (they reorder what a reader sees); unpaired surrogates.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_IN_COMMENT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|\p{Cs}/u;

/** Why a comment is refused, or null when it is fine (the SDK's form uses this as the user types). */
export function commentProblem(comment: string): string | null {
  if (comment.length > MAX_EVALUATION_COMMENT) return `must be at most ${MAX_EVALUATION_COMMENT} characters`;
  if (FORBIDDEN_IN_COMMENT.test(comment)) return 'must be plain text without control characters';
  if (comment.trim() === '') return 'must not be empty (leave it out instead)';
  return null;
}

const rating = int(MIN_RATING, MAX_RATING);
// A custom check, so the sentence says which rule the comment broke.
const comment = z.string().check((ctx) => {
  const problem = commentProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

/** What a patient sends. */
export const evaluationInput = z.strictObject({
  /** The consult overall, 1–5 stars (required). */
  overall: rating,
  /** Sound and picture, 1–5. */
  audioVideo: z.optional(rating),
  /** How the doctor explained and listened, 1–5. */
  communication: z.optional(rating),
  /** The wait before being admitted, 1–5. */
  waitingTime: z.optional(rating),
  /** Plain text, at most `MAX_EVALUATION_COMMENT` characters (see `commentProblem`). */
  comment: z.optional(comment),
});
/** A patient's evaluation as sent. */
export type EvaluationInput = z.infer<typeof evaluationInput>;

/**
 * Checks an evaluation as the server will, throwing a HuizhenError
 * (INVALID_REQUEST) whose sentence names the field (`comment: must be ...`).
 */
export function parseEvaluation(value: unknown): EvaluationInput {
  try {
    return parseWith(evaluationInput, value);
  } catch (err) {
    if (err instanceof ProtocolValidationError) throw new HuizhenError(ErrorCode.INVALID_REQUEST, err.message);
    throw err;
  }
}

// --- what the server answers (objects strip unknown keys, so a newer server may add fields)

const ratingOut = z.number();

export const storedEvaluation = z.object({
  /** The evaluation's id. */
  id: z.string(),
  /** The consult room it rates. */
  room: z.string(),
  /** Who rated: the person (issuer + identity) who was admitted to the consult. */
  by: z.object({
    /** Their identity (`sub`). */
    identity: z.string(),
    /** Their display name. */
    name: z.string(),
    /** Their role (patient or family). */
    role: oneOf(ROLES),
    /** Their token's issuer. */
    issuer: z.string(),
  }),
  /** ms since the epoch, server clock. */
  submittedAt: z.number(),
  /** The consult overall, 1–5. */
  overall: ratingOut,
  /** Sound and picture, 1–5, when rated. */
  audioVideo: z.optional(ratingOut),
  /** The doctor's communication, 1–5, when rated. */
  communication: z.optional(ratingOut),
  /** The wait, 1–5, when rated. */
  waitingTime: z.optional(ratingOut),
  /** The comment, when given. */
  comment: z.optional(z.string()),
});
/** An evaluation as the server stored it. */
export type StoredEvaluation = z.infer<typeof storedEvaluation>;

/** `POST /api/rooms/:id/evaluation` → 201 */
export const evaluationSubmitted = z.object({ evaluation: storedEvaluation });
export type EvaluationSubmitted = z.infer<typeof evaluationSubmitted>;

/** `GET /api/rooms/:id/evaluations` → 200, oldest first */
export const evaluationList = z.object({ evaluations: z.array(storedEvaluation) });
export type EvaluationList = z.infer<typeof evaluationList>;

const dimensionStats = z.object({
  /** How many evaluations rated this dimension. */
  count: z.number(),
  /** Their mean, rounded to two decimals; null when none did. */
  mean: z.nullable(z.number()),
});

export const evaluationAggregate = z.object({
  /** The host (doctor) identity the aggregate is for, and the issuer it was narrowed to (null: any). */
  host: z.string(),
  issuer: z.nullable(z.string()),
  /** Consults of this host with at least one evaluation. */
  consults: z.number(),
  /** Evaluations over those consults. */
  count: z.number(),
  dimensions: z.object({
    overall: dimensionStats,
    audioVideo: dimensionStats,
    communication: dimensionStats,
    waitingTime: dimensionStats,
  }),
  /** How many evaluations gave each overall rating. */
  overallDistribution: z.object({
    '1': z.number(),
    '2': z.number(),
    '3': z.number(),
    '4': z.number(),
    '5': z.number(),
  }),
});
/** A doctor's evaluations summed up over their consults. */
export type EvaluationAggregate = z.infer<typeof evaluationAggregate>;

/** `GET /api/evaluations?host=...` → 200 */
export const evaluationAggregateResponse = z.object({ aggregate: evaluationAggregate });

/** A host identity as it appears in tokens (`sub`). */
export const EVALUATION_HOST = str({ min: 1, max: 128, pattern: /^[A-Za-z0-9_.@:-]+$/ });
