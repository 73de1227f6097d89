/**
 * Who may rate a consult, and when; who may read the ratings.
 *
 * A consult is rated after it ended, within `evaluation.windowSec`, once per
 * person (issuer + identity), by patients and family who were admitted to it
 * (its participant ledger), with an access token for that room. Removed
 * people are refused: a host removes someone for cause, and their rating
 * would weigh on the doctor's figures. Clinicians, interpreters and
 * observers do not rate.
 *
 * The aggregate per doctor is for the doctor themself (a clinician token of
 * theirs, for any room: it is about the person, not a room, and only consults
 * they hosted under that same issuer count) and for the hospital's systems
 * (a `rooms:read` service token, any host). Colleagues do not see each
 * other's figures: they are a performance matter for the hospital.
 */
import { randomBytes } from 'node:crypto';
import {
  ErrorCode,
  type EvaluationAggregate,
  type EvaluationInput,
  type Role,
  type StoredEvaluation,
} from '@huizhen/protocol';
import { actorOf, type AuditSink } from '../audit/AuditLog.js';
import { personKey } from '../auth/person.js';
import type { TokenClaims } from '../auth/tokens.js';
import { HuizhenError } from '../errors.js';
import type { ConsultRecord, ConsultStore } from '../rooms/ConsultStore.js';
import { isClinician } from '../rooms/policy.js';
import { aggregateEvaluations } from './aggregate.js';
import type { EvaluationConfig } from './evaluationConfig.js';
import type { EvaluationStore } from './EvaluationStore.js';

/** The roles that rate a consult. */
export const EVALUATING_ROLES: readonly Role[] = ['patient', 'family'];

export interface EvaluationServiceDeps {
  config: EvaluationConfig;
  consults: ConsultStore;
  store: EvaluationStore;
  audit: AuditSink;
  /** The clock (ms since the epoch); Date.now by default. */
  now?: () => number;
}

export class EvaluationService {
  readonly #deps: EvaluationServiceDeps;
  readonly #now: () => number;

  constructor(deps: EvaluationServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Checks that the token's holder may rate this consult now, then stores it once. */
  async submit(roomId: string, claims: TokenClaims, input: EvaluationInput): Promise<StoredEvaluation> {
    if (claims.room !== roomId)
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, `This token is for room '${claims.room}'.`);
    if (!EVALUATING_ROLES.includes(claims.role))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'Only patients and their family evaluate a consult.');
    const record = await this.#consult(roomId);
    if (record.room.state !== 'ended' || record.room.endedAt === null)
      throw new HuizhenError(ErrorCode.INVALID_STATE, 'The consult has not ended yet; evaluate it once it has.');
    if (this.#now() > record.room.endedAt + this.#deps.config.windowSec * 1000)
      throw new HuizhenError(ErrorCode.EVALUATION_CLOSED, 'The time to evaluate this consult is over.');
    const entry = record.ledger.find(
      (e) => e.identity === claims.identity && e.issuer === claims.issuer && EVALUATING_ROLES.includes(e.role),
    );
    if (!entry)
      throw new HuizhenError(
        ErrorCode.PERMISSION_DENIED,
        'Only patients and family who took part in this consult may evaluate it.',
      );
    if (record.banned.includes(personKey(claims.issuer, claims.identity)))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'You were removed from this consult.');

    const evaluation: StoredEvaluation = {
      id: `ev_${randomBytes(9).toString('base64url')}`,
      room: roomId,
      by: { identity: entry.identity, name: entry.name, role: entry.role, issuer: entry.issuer },
      submittedAt: this.#now(),
      ...input,
    };
    await this.#deps.store.add({ room: roomId, ...hostOf(record) }, evaluation);
    // The overall rating only (webhooks carry it on): never the comment.
    this.#deps.audit.append({
      event: 'evaluation_submitted',
      room: roomId,
      actor: actorOf(claims),
      details: { overall: input.overall },
    });
    return evaluation;
  }

  /** Every evaluation of a known consult (the caller has checked the reader). */
  async list(roomId: string): Promise<StoredEvaluation[]> {
    await this.#consult(roomId);
    return this.#deps.store.list(roomId);
  }

  /** How many evaluations a consult has (for its summary). */
  async count(roomId: string): Promise<number> {
    return (await this.#deps.store.list(roomId)).length;
  }

  /** The host's figures over the consults they hosted; `issuer` null counts every issuer's. */
  async aggregate(host: string, issuer: string | null): Promise<EvaluationAggregate> {
    const consults = [...(await this.#deps.store.ratings()).values()]
      .filter((c) => c.host === host && (issuer === null || c.hostIssuer === issuer))
      .map((c) => c.ratings);
    return aggregateEvaluations(host, issuer, consults);
  }

  async #consult(roomId: string): Promise<ConsultRecord> {
    const record = await this.#deps.consults.load(roomId);
    if (!record) throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, `No consult '${roomId}' is known.`);
    return record;
  }
}

/** The host and the issuer that vouched for them, from the ledger (null if the host never joined). */
function hostOf(record: ConsultRecord): { host: string | null; hostIssuer: string | null } {
  const host = record.room.host;
  const entry = host === null ? undefined : record.ledger.find((e) => e.identity === host && isClinician(e.role));
  return { host, hostIssuer: entry?.issuer ?? null };
}
