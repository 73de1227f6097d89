import { afterEach, describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from './TypedEmitter.js';

type Events = {
  joined: (name: string, at: number) => void;
  left: () => void;
};

describe('TypedEmitter', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('calls listeners in registration order with the emitted arguments', () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    emitter.on('joined', (name, at) => calls.push(`a:${name}:${at}`));
    emitter.on('joined', (name) => calls.push(`b:${name}`));
    expect(emitter.emit('joined', 'li', 7)).toBe(true);
    expect(calls).toEqual(['a:li:7', 'b:li']);
  });

  it('reports whether anyone listened', () => {
    const emitter = new TypedEmitter<Events>();
    expect(emitter.emit('left')).toBe(false);
    emitter.on('left', () => {});
    expect(emitter.emit('left')).toBe(true);
  });

  it('calls a once listener a single time', () => {
    const emitter = new TypedEmitter<Events>();
    const listener = vi.fn();
    emitter.once('left', listener);
    emitter.emit('left');
    emitter.emit('left');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(emitter.listenerCount('left')).toBe(0);
  });

  it('removes listeners with off and removeAllListeners', () => {
    const emitter = new TypedEmitter<Events>();
    const a = vi.fn();
    const b = vi.fn();
    emitter.on('left', a).on('left', b).on('joined', vi.fn());
    emitter.off('left', a);
    emitter.emit('left');
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
    emitter.removeAllListeners('left');
    expect(emitter.listenerCount('left')).toBe(0);
    expect(emitter.listenerCount('joined')).toBe(1);
    emitter.removeAllListeners();
    expect(emitter.listenerCount('joined')).toBe(0);
  });

  it('lets a listener remove a later one during emit without skipping or crashing', () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    const second = (): void => {
      calls.push('second');
    };
    emitter.on('left', () => {
      calls.push('first');
      emitter.off('left', second);
    });
    emitter.on('left', second);
    emitter.emit('left');
    // The snapshot still includes `second` for this emit; it is gone afterwards.
    expect(calls).toEqual(['first', 'second']);
    emitter.emit('left');
    expect(calls).toEqual(['first', 'second', 'first']);
  });

  it('keeps calling other listeners when one throws, and hands the error to onListenerError', () => {
    const errors: [unknown, string][] = [];
    const emitter = new TypedEmitter<Events>({ onListenerError: (error, event) => errors.push([error, event]) });
    const after = vi.fn();
    const boom = new Error('app bug');
    emitter.on('left', () => {
      throw boom;
    });
    emitter.on('left', after);
    expect(() => emitter.emit('left')).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([[boom, 'left']]);
  });

  it('reports listener errors through reportError by default', () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const emitter = new TypedEmitter<Events>();
    const boom = new Error('app bug');
    emitter.on('left', () => {
      throw boom;
    });
    emitter.emit('left');
    expect(reportError).toHaveBeenCalledWith(boom);
  });

  it('rejects a listener that is not a function', () => {
    const emitter = new TypedEmitter<Events>();
    expect(() => emitter.on('left', 'nope' as unknown as () => void)).toThrow(TypeError);
  });
});
