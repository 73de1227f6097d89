/**
 * The building blocks of the wire schemas (zod 4, `zod/mini` so the SDK
 * bundle tree-shakes) and the one place that turns a zod issue into the
 * sentence Huizhen has always reported: `<path>: <problem>`.
 */
import * as z from 'zod/mini';

/** Any zod schema (classic or mini): what `parseWith` accepts. */
export type Schema<T = unknown> = z.core.$ZodType<T>;

/** A payload did not match the protocol. `path` names the bad field (`data.room`, `id`, ``). */
export class ProtocolValidationError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = 'ProtocolValidationError';
    this.path = path;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** `a.b[2].c`, prefixed with `base` when given. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key))
      return { present: false, value: undefined };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { present: true, value: node };
}

const EXPECTED: Record<string, string> = { number: 'finite number', int: 'finite number' };

/** The problem half of the sentence for one zod issue (input is the whole value parsed). */
function problemOf(issue: z.core.$ZodIssue, input: unknown): { path: readonly PropertyKey[]; problem: string } {
  const path = issue.path;
  switch (issue.code) {
    case 'invalid_type': {
      const { present, value } = valueAt(input, path);
      if (!present || value === undefined) return { path, problem: 'is required' };
      if (issue.expected === 'int' && typeof value === 'number' && Number.isFinite(value))
        return { path, problem: 'must be an integer' };
      return { path, problem: `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(value)}` };
    }
    case 'too_small':
      if (issue.origin === 'string') return { path, problem: `must be at least ${String(issue.minimum)} characters` };
      if (issue.origin === 'array') return { path, problem: `must have at least ${String(issue.minimum)} items` };
      return { path, problem: `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}` };
    case 'too_big':
      if (issue.origin === 'string') return { path, problem: `must be at most ${String(issue.maximum)} characters` };
      if (issue.origin === 'array') return { path, problem: `must have at most ${String(issue.maximum)} items` };
      return { path, problem: `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}` };
    case 'invalid_format':
      return { path, problem: 'has an invalid format' };
    case 'invalid_value':
      return { path, problem: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'unrecognized_keys':
      return { path: [...path, issue.keys[0] ?? ''], problem: 'is not a known field' };
    case 'invalid_union': {
      // A discriminated union names its tag; otherwise report the first branch's first problem.
      const first = issue.errors[0]?.[0];
      if (first) return problemOf({ ...first, path: [...path, ...first.path] } as z.core.$ZodIssue, input);
      return { path, problem: 'does not match any allowed shape' };
    }
    default:
      return { path, problem: issue.message || 'is invalid' };
  }
}

/** One issue → `<path>: <problem>` as a ProtocolValidationError. */
export function toValidationError(issue: z.core.$ZodIssue, input: unknown, base = ''): ProtocolValidationError {
  const { path, problem } = problemOf(issue, input);
  return new ProtocolValidationError(formatPath(base, path), problem);
}

/** Parses `value` with `schema`, or throws ProtocolValidationError for its first issue, paths under `base`. */
export function parseWith<T>(schema: Schema<T>, value: unknown, base = ''): T {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  throw toValidationError(result.error.issues[0]!, value, base);
}

// --- field helpers

export const str = (opts: { min?: number; max: number; pattern?: RegExp }) => {
  const checks: z.core.$ZodCheck<string>[] = [];
  if (opts.min) checks.push(z.minLength(opts.min));
  checks.push(z.maxLength(opts.max));
  if (opts.pattern) checks.push(z.regex(opts.pattern));
  return z.string().check(...checks);
};

export const num = (opts: { min?: number; max?: number; integer?: boolean } = {}) => {
  const checks: z.core.$ZodCheck<number>[] = [];
  if (opts.integer) checks.push(z.int());
  if (opts.min !== undefined) checks.push(z.gte(opts.min));
  if (opts.max !== undefined) checks.push(z.lte(opts.max));
  return z.number().check(...checks);
};

export const int = (min: number, max: number) => num({ integer: true, min, max });

export const oneOf = <const T extends readonly (string | number)[]>(values: T) => z.literal(values);

export const arr = <T extends z.core.SomeType>(item: T, opts: { max: number; min?: number }) =>
  z.array(item).check(z.maxLength(opts.max), z.minLength(opts.min ?? 0));

/**
 * A schema whose parsed output is typed as `T` (e.g. mediasoup-client's
 * RtpParameters): the runtime check stays the bounded one below, the type is
 * what mediasoup itself validates in depth.
 */
export const typed = <T>(schema: z.core.$ZodType): z.ZodMiniType<T> => schema as unknown as z.ZodMiniType<T>;

export interface JsonBounds {
  maxDepth: number;
  maxItems: number;
  maxString: number;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Walks free-form JSON; returns the first problem as [relative path, problem]. */
function walkJson(
  value: unknown,
  bounds: JsonBounds,
  path: PropertyKey[],
  depth: number,
): [PropertyKey[], string] | null {
  if (depth > bounds.maxDepth) return [path, `is nested too deeply (max ${bounds.maxDepth})`];
  if (typeof value === 'string')
    return value.length > bounds.maxString ? [path, `string is too long (max ${bounds.maxString})`] : null;
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : [path, 'must be a finite number'];
  if (Array.isArray(value)) {
    if (value.length > bounds.maxItems) return [path, `has too many items (max ${bounds.maxItems})`];
    for (const [i, v] of value.entries()) {
      const problem = walkJson(v, bounds, [...path, i], depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length > bounds.maxItems) return [path, `has too many fields (max ${bounds.maxItems})`];
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) return [[...path, key], 'is a forbidden field name'];
      const problem = walkJson((value as Record<string, unknown>)[key], bounds, [...path, key], depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  return [path, `unsupported value of type ${describe(value)}`];
}

/**
 * Arbitrary JSON object (e.g. RTP parameters that mediasoup validates in depth
 * itself), bounded in depth, breadth and string length so it cannot be used to
 * exhaust the receiver, and free of prototype-polluting keys.
 */
export const json = <T = Record<string, unknown>>(bounds: JsonBounds): z.ZodMiniType<T> =>
  typed<T>(
    z.custom<unknown>().check((ctx) => {
      const value = ctx.value;
      if (value === undefined) {
        ctx.issues.push({ code: 'invalid_type', expected: 'object', input: value });
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        ctx.issues.push({ code: 'custom', message: `expected object, got ${describe(value)}`, input: value });
        return;
      }
      const problem = walkJson(value, bounds, [], 0);
      if (problem) ctx.issues.push({ code: 'custom', message: problem[1], input: value, path: problem[0] });
    }),
  );
