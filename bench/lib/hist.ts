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

/**
 * A recorder for the hot path (one value per delivery): log-linear buckets with 1,024 sub-buckets
 * per power of two, HdrHistogram's layout for 3 significant digits, kept in a plain Uint32Array.
 * hdr-histogram-js costs ~100 ns per value (~600 ns packed), which alone was most of a load
 * worker's time per delivery; this costs a few. Shipped as an HDR histogram (`toHistogram`).
 */
const SUB_BUCKETS = 2048;
const HALF = SUB_BUCKETS / 2;
const MAX_SHIFT = 24; // values up to 2^35 us, far past any bench wait

export class LatencyRecorder {
  private readonly counts = new Uint32Array(SUB_BUCKETS + MAX_SHIFT * HALF);
  totalCount = 0;

  /** Records a value in microseconds (rounded, at least 1). */
  record(us: number): void {
    let value = us < 1 ? 1 : Math.round(us);
    if (value >= 2 ** 35) value = 2 ** 35 - 1;
    this.counts[bucketOf(value)]! += 1;
    this.totalCount++;
  }

  toHistogram(): Histogram {
    const histogram = newHistogram();
    this.counts.forEach((count, index) => {
      if (count > 0) histogram.recordValueWithCount(valueOf(index), count);
    });
    return histogram;
  }
}

function bucketOf(value: number): number {
  if (value < SUB_BUCKETS) return value;
  // value < 2^35 does not fit 32 bits: shift by the bits above the top 11 of its magnitude.
  const shift = Math.floor(Math.log2(value)) - 10;
  return SUB_BUCKETS + (shift - 1) * HALF + (Math.floor(value / 2 ** shift) - HALF);
}

/** The middle of a bucket. */
function valueOf(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const shift = Math.floor((index - SUB_BUCKETS) / HALF) + 1;
  const sub = ((index - SUB_BUCKETS) % HALF) + HALF;
  return sub * 2 ** shift + 2 ** (shift - 1);
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
