/**
 * The `evaluation` section of the server configuration: how long after a
 * consult ends its patients and family may still rate it.
 */
import { num } from '@huizhen/protocol';
import * as z from 'zod/mini';

export const evaluationConfigSchema = z.strictObject({
  /** Seconds after the consult's end during which an evaluation is accepted (1 s to a year). */
  windowSec: num({ integer: true, min: 1, max: 366 * 86400 }),
});

export type EvaluationConfig = z.infer<typeof evaluationConfigSchema>;
