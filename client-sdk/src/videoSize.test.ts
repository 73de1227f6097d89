import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VideoSizeReporter, type ObservedSize, type ResizeEntryLike, type ResizeObserverFactory } from './videoSize.js';

/** A ResizeObserver the test drives by hand. */
class FakeObserver {
  static last: FakeObserver | undefined;
  readonly observed = new Set<Element>();
  disconnected = false;
  constructor(readonly callback: (entries: readonly ResizeEntryLike[]) => void) {
    FakeObserver.last = this;
  }
  observe(target: Element): void {
    this.observed.add(target);
  }
  unobserve(target: Element): void {
    this.observed.delete(target);
  }
  disconnect(): void {
    this.disconnected = true;
    this.observed.clear();
  }
  resize(target: Element, width: number, height: number): void {
    this.callback([{ target, contentRect: { width, height } }]);
  }
}

const createObserver: ResizeObserverFactory = (callback) => new FakeObserver(callback);
const element = (): Element => ({}) as Element;

describe('VideoSizeReporter', () => {
  let reports: ObservedSize[];
  let reporter: VideoSizeReporter;

  beforeEach(() => {
    vi.useFakeTimers();
    reports = [];
    reporter = new VideoSizeReporter((size) => reports.push(size), { debounceMs: 200, createObserver });
  });

  afterEach(() => {
    reporter.dispose();
    vi.useRealTimers();
  });

  it('reports the rendered size once resizes settle', () => {
    const el = element();
    reporter.observe(el);
    const observer = FakeObserver.last!;
    expect(observer.observed.has(el)).toBe(true);
    observer.resize(el, 320, 180);
    vi.advanceTimersByTime(100);
    observer.resize(el, 640.4, 359.6);
    vi.advanceTimersByTime(199);
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(reports).toEqual([{ width: 640, height: 360 }]);
  });

  it('reports the largest of several elements showing the track', () => {
    const thumb = element();
    const stage = element();
    reporter.observe(thumb);
    reporter.observe(stage);
    const observer = FakeObserver.last!;
    observer.resize(thumb, 160, 90);
    observer.resize(stage, 1280, 720);
    vi.advanceTimersByTime(200);
    expect(reports.at(-1)).toEqual({ width: 1280, height: 720 });

    // Stage detached: the thumbnail is all that is left.
    reporter.unobserve(stage);
    vi.advanceTimersByTime(200);
    expect(reports.at(-1)).toEqual({ width: 160, height: 90 });
  });

  it('reports 0x0 when every element is hidden or detached', () => {
    const el = element();
    reporter.observe(el);
    const observer = FakeObserver.last!;
    observer.resize(el, 640, 360);
    vi.advanceTimersByTime(200);
    observer.resize(el, 0, 0); // display: none
    vi.advanceTimersByTime(200);
    expect(reports.at(-1)).toEqual({ width: 0, height: 0 });
    observer.resize(el, 640, 360);
    vi.advanceTimersByTime(200);
    reporter.unobserve(el);
    vi.advanceTimersByTime(200);
    expect(reports).toEqual([
      { width: 640, height: 360 },
      { width: 0, height: 0 },
      { width: 640, height: 360 },
      { width: 0, height: 0 },
    ]);
  });

  it('does not repeat an unchanged size', () => {
    const el = element();
    reporter.observe(el);
    const observer = FakeObserver.last!;
    observer.resize(el, 640, 360);
    vi.advanceTimersByTime(200);
    observer.resize(el, 640, 360);
    vi.advanceTimersByTime(200);
    expect(reports).toHaveLength(1);
  });

  it('stops reporting after dispose', () => {
    const el = element();
    reporter.observe(el);
    const observer = FakeObserver.last!;
    observer.resize(el, 640, 360);
    reporter.dispose();
    vi.advanceTimersByTime(1000);
    expect(reports).toEqual([]);
    expect(observer.disconnected).toBe(true);
  });

  it('falls back to the size at attach time without ResizeObserver', () => {
    const fallback = new VideoSizeReporter((size) => reports.push(size), { debounceMs: 10 });
    fallback.observe({ clientWidth: 300, clientHeight: 200 } as unknown as Element);
    vi.advanceTimersByTime(10);
    expect(reports).toEqual([{ width: 300, height: 200 }]);
    fallback.dispose();
  });
});
