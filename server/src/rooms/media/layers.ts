/**
 * Simulcast layer choice: the lowest layer whose resolution covers the size
 * the subscriber actually renders, so a thumbnail never pulls the 720p stream.
 */

/** Height of the top simulcast layer we plan for when the publisher did not say. */
export const TOP_LAYER_HEIGHT = 720;

/**
 * @param width rendered width in device pixels (0 when not visible)
 * @param height rendered height in device pixels
 * @param scales the producer's scaleResolutionDownBy per encoding, lowest layer first
 */
export function chooseSpatialLayer(width: number, height: number, scales: readonly number[]): number {
  const layers = scales.length > 0 ? scales : [4, 2, 1];
  // A 16:9 source shown in a box: the height that matters is the larger of
  // the box height and the height the width implies.
  const needed = Math.max(height, Math.round((width * 9) / 16));
  for (let i = 0; i < layers.length; i++) {
    const layerHeight = TOP_LAYER_HEIGHT / (layers[i] ?? 1);
    if (layerHeight >= needed) return i;
  }
  return layers.length - 1;
}
