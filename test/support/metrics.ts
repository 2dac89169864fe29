/** Prometheus text from a node's /metrics, as series -> value (`name{label="v",...}` as written). */
export type Scrape = Map<string, number>;

export async function scrape(baseUrl: string): Promise<Scrape> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const series: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** How much a series moved between two scrapes (a series absent from a scrape counts as 0). */
export function moved(before: Scrape, after: Scrape, series: string): number {
  return (after.get(series) ?? 0) - (before.get(series) ?? 0);
}
