/**
 * The scenarios a run ramps: who is in one room, what they publish and what
 * each should end up receiving. Rooms are the unit of a step and of a
 * generator process (a room's media never crosses processes).
 */
import type { ParticipantPlan } from './participant.js';

export const SCENARIOS = ['consults', 'clinic', 'rounds'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioShape {
  name: ScenarioName;
  description: string;
  /** Members of one room. */
  plans(roomId: string, prefix: string): ParticipantPlan[];
}

export function scenarioShape(name: ScenarioName, roundsListeners = 15): ScenarioShape {
  switch (name) {
    case 'consults':
      return {
        name,
        description: '1:1 consult rooms: doctor and patient both publish audio + simulcast video and see each other',
        plans: (room, prefix) =>
          (['doctor', 'patient'] as const).map((role) => ({
            identity: `${prefix}-${role}`,
            room,
            role,
            kind: 'consult' as const,
            publish: true,
            subscribe: true,
            expectedConsumers: 2,
          })),
      };
    case 'clinic':
      return {
        name,
        description: 'collaborative clinic rooms of 6: 5 clinicians publish and see each other, 1 observer listens',
        plans: (room, prefix) => [
          ...Array.from({ length: 5 }, (_, i) => ({
            identity: `${prefix}-dr${i}`,
            room,
            role: 'doctor' as const,
            kind: 'clinic' as const,
            publish: true,
            subscribe: true,
            expectedConsumers: 8,
          })),
          {
            identity: `${prefix}-obs`,
            room,
            role: 'observer' as const,
            kind: 'clinic' as const,
            publish: false,
            subscribe: true,
            expectedConsumers: 10,
          },
        ],
      };
    case 'rounds':
      return {
        name,
        description: `teaching rounds: 1 presenter publishes to ${roundsListeners} listeners per room`,
        plans: (room, prefix) => [
          {
            identity: `${prefix}-lead`,
            room,
            role: 'doctor' as const,
            kind: 'rounds' as const,
            publish: true,
            subscribe: false,
            expectedConsumers: 0,
          },
          ...Array.from({ length: roundsListeners }, (_, i) => ({
            identity: `${prefix}-l${i}`,
            room,
            role: 'observer' as const,
            kind: 'rounds' as const,
            publish: false,
            subscribe: true,
            expectedConsumers: 2,
          })),
        ],
      };
  }
}
