import * as hdr from 'hdr-histogram-js';

/**
 * HDR histograms of microseconds. Load workers record into their own and ship them encoded to the
 * parent, which merges them: percentiles of the union, not averages of percentiles.
 */
export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 'packed',
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function mergeEncoded(encoded: readonly string[]): Histogram {
  const total = newHistogram();
  for (const item of encoded) {
    if (!item) continue;
    const part = hdr.decodeFromCompressedBase64(item, 'packed', false);
    total.add(part);
    part.destroy();
  }
  return total;
}

/** The percentiles plotted and tabled (percent). */
export const PERCENTILES = [50, 75, 90, 95, 99, 99.5, 99.9, 99.99] as const;

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** [percentile, ms] pairs for the percentile curve. */
  curve: Array<[number, number]>;
}

export function summarize(histogram: Histogram): LatencySummary | undefined {
  if (histogram.totalCount === 0) return undefined;
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
    curve: [...PERCENTILES.map((p): [number, number] => [p, ms(histogram.getValueAtPercentile(p))]), [100, ms(histogram.maxValue)]],
  };
}
