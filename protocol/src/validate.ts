/**
 * A small runtime validator for wire messages. Each validator both checks an
 * unknown value and narrows its TypeScript type, so the message types below are
 * derived from the same definitions that guard the server.
 */

export class ValidationError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = 'ValidationError';
    this.path = path;
  }
}

export interface Validator<T> {
  /** Returns the value typed as T, or throws ValidationError naming the bad field. */
  parse(value: unknown, path?: string): T;
  readonly optional?: boolean;
}

export type Infer<V> = V extends Validator<infer T> ? T : never;

type Shape = Record<string, Validator<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type InferShape<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function string(opts: { min?: number; max: number; pattern?: RegExp }): Validator<string> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'string') throw new ValidationError(path, `expected string, got ${describe(value)}`);
      if (value.length < (opts.min ?? 0))
        throw new ValidationError(path, `must be at least ${opts.min ?? 0} characters`);
      if (value.length > opts.max) throw new ValidationError(path, `must be at most ${opts.max} characters`);
      if (opts.pattern && !opts.pattern.test(value)) throw new ValidationError(path, `has an invalid format`);
      return value;
    },
  };
}

export function number(opts: { min?: number; max?: number; integer?: boolean } = {}): Validator<number> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new ValidationError(path, `expected finite number, got ${describe(value)}`);
      }
      if (opts.integer && !Number.isInteger(value)) throw new ValidationError(path, 'must be an integer');
      if (opts.min !== undefined && value < opts.min) throw new ValidationError(path, `must be >= ${opts.min}`);
      if (opts.max !== undefined && value > opts.max) throw new ValidationError(path, `must be <= ${opts.max}`);
      return value;
    },
  };
}

export function boolean(): Validator<boolean> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'boolean') throw new ValidationError(path, `expected boolean, got ${describe(value)}`);
      return value;
    },
  };
}

export function oneOf<const T extends readonly (string | number)[]>(values: T): Validator<T[number]> {
  return {
    parse(value, path = '') {
      if (!values.includes(value as T[number])) {
        throw new ValidationError(path, `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
      }
      return value as T[number];
    },
  };
}

export function array<T>(item: Validator<T>, opts: { max: number; min?: number }): Validator<T[]> {
  return {
    parse(value, path = '') {
      if (!Array.isArray(value)) throw new ValidationError(path, `expected array, got ${describe(value)}`);
      if (value.length > opts.max) throw new ValidationError(path, `must have at most ${opts.max} items`);
      if (value.length < (opts.min ?? 0)) throw new ValidationError(path, `must have at least ${opts.min ?? 0} items`);
      return value.map((v, i) => item.parse(v, `${path}[${i}]`));
    },
  };
}

export function optional<T>(inner: Validator<T>): Validator<T | undefined> & { optional: true } {
  return {
    optional: true,
    parse(value, path = '') {
      return value === undefined ? undefined : inner.parse(value, path);
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with exactly these keys; unknown keys are rejected so typos surface early. */
export function object<S extends Shape>(shape: S, opts: { allowUnknown?: boolean } = {}): Validator<InferShape<S>> {
  return {
    parse(value, path = '') {
      if (!isPlainObject(value)) throw new ValidationError(path, `expected object, got ${describe(value)}`);
      const out: Record<string, unknown> = {};
      for (const [key, validator] of Object.entries(shape)) {
        const child = path ? `${path}.${key}` : key;
        if (!(key in value) && !validator.optional) throw new ValidationError(child, 'is required');
        const parsed = validator.parse(value[key], child);
        if (parsed !== undefined) out[key] = parsed;
      }
      if (!opts.allowUnknown) {
        for (const key of Object.keys(value)) {
          if (!(key in shape)) throw new ValidationError(path ? `${path}.${key}` : key, 'is not a known field');
        }
      }
      return out as InferShape<S>;
    },
  };
}

/**
 * Arbitrary JSON data (e.g. RTP parameters that mediasoup validates in depth
 * itself), bounded in depth, breadth and string length so it cannot be used to
 * exhaust the server.
 */
export function json<T = Record<string, unknown>>(opts: {
  maxDepth: number;
  maxItems: number;
  maxString: number;
}): Validator<T> {
  const walk = (value: unknown, path: string, depth: number): void => {
    if (depth > opts.maxDepth) throw new ValidationError(path, `is nested too deeply (max ${opts.maxDepth})`);
    if (typeof value === 'string') {
      if (value.length > opts.maxString) throw new ValidationError(path, `string is too long (max ${opts.maxString})`);
      return;
    }
    if (value === null || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new ValidationError(path, 'must be a finite number');
      return;
    }
    if (Array.isArray(value)) {
      if (value.length > opts.maxItems) throw new ValidationError(path, `has too many items (max ${opts.maxItems})`);
      value.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1));
      return;
    }
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      if (keys.length > opts.maxItems) throw new ValidationError(path, `has too many fields (max ${opts.maxItems})`);
      for (const key of keys) {
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
          throw new ValidationError(`${path}.${key}`, 'is a forbidden field name');
        }
        walk(value[key], `${path}.${key}`, depth + 1);
      }
      return;
    }
    throw new ValidationError(path, `unsupported value of type ${describe(value)}`);
  };
  return {
    parse(value, path = '') {
      if (!isPlainObject(value)) throw new ValidationError(path, `expected object, got ${describe(value)}`);
      walk(value, path, 0);
      return value as T;
    },
  };
}
