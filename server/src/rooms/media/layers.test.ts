import { describe, expect, it } from 'vitest';
import { chooseSpatialLayer } from './layers.js';

describe('chooseSpatialLayer', () => {
  const scales = [4, 2, 1]; // 180p, 360p, 720p

  it('sends the lowest layer to thumbnails and hidden tiles', () => {
    expect(chooseSpatialLayer(0, 0, scales)).toBe(0);
    expect(chooseSpatialLayer(320, 180, scales)).toBe(0);
  });

  it('picks the middle layer for a medium tile', () => {
    expect(chooseSpatialLayer(640, 360, scales)).toBe(1);
    expect(chooseSpatialLayer(400, 300, scales)).toBe(1);
  });

  it('picks the top layer for a large or full-screen view', () => {
    expect(chooseSpatialLayer(1280, 720, scales)).toBe(2);
    expect(chooseSpatialLayer(3840, 2160, scales)).toBe(2);
  });

  it('uses the width when the box is wide and short', () => {
    expect(chooseSpatialLayer(1200, 100, scales)).toBe(2);
  });

  it('handles publishers with two layers', () => {
    expect(chooseSpatialLayer(1280, 720, [2, 1])).toBe(1);
    expect(chooseSpatialLayer(320, 180, [2, 1])).toBe(0);
  });
});
