/**
 * What a room's workflow parts (host controls, conversation) may use of the
 * room that holds them: who is in it, telling them, and leaving or closing.
 * Kept to an interface so each part can be read (and tested) on its own.
 */
import type { ConsultSummary, Notification, NotificationData } from '@huizhen/protocol';
import type { AuditSink } from '../audit/AuditLog.js';
import type { ErrorCode } from '@huizhen/protocol';
import type { Consult } from './Consult.js';
import type { Participant } from './Participant.js';
import type { RoomStateWriter } from './RoomStateWriter.js';

export type LeaveReason = 'left' | 'disconnected' | 'removed' | 'replaced' | 'denied' | 'expired';

export interface RoomContext {
  readonly id: string;
  readonly consult: Consult;
  readonly audit: AuditSink;
  /** Where changes to durable state are written (and awaited) before they take effect. */
  readonly durable: RoomStateWriter;
  /** Admitted participants other than `p`. */
  others(p: Participant): Participant[];
  /** Admitted or waiting, by identity. */
  find(identity: string): Participant | undefined;
  broadcast<N extends Notification>(except: Participant | null, name: N, data: NotificationData[N]): void;
  leave(p: Participant, reason: LeaveReason): void;
  close(reason: string, code: ErrorCode, summary?: ConsultSummary): void;
}
