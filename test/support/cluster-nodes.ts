// CLUSTER NODES as data: what one node believes about the cluster (who is master of which slots,
// who replicates whom, who is failing). Pure, so the launcher's health checks are easy to pin.

export interface ClusterNodeView {
  id: string;
  /** ip:port (the client port; the bus port after '@' is dropped). */
  address: string;
  flags: ReadonlySet<string>;
  /** Id of the master this node replicates; '-' for a master. */
  masterId: string;
  connected: boolean;
  /** Inclusive slot ranges served by this node (masters only). */
  slots: Array<readonly [number, number]>;
}

/** Parses the text of CLUSTER NODES (one node per line). Importing/migrating markers are skipped. */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [id = '', addr = '', flags = '', masterId = '-', , , , link = '', ...slotItems] = line.split(' ');
      const slots = slotItems
        .filter((item) => !item.startsWith('['))
        .map((item): readonly [number, number] => {
          const [from, to = from] = item.split('-');
          return [Number(from), Number(to)];
        });
      return { id, address: addr.split('@')[0] ?? addr, flags: new Set(flags.split(',')), masterId, connected: link === 'connected', slots };
    });
}

/** The master of each slot as this view has it ('' where none is known), for comparing views. */
export function slotOwners(view: readonly ClusterNodeView[]): string[] {
  const owners = new Array<string>(16384).fill('');
  for (const node of view) {
    if (!node.flags.has('master')) continue;
    for (const [from, to] of node.slots) for (let slot = from; slot <= to; slot++) owners[slot] = node.address;
  }
  return owners;
}

/** True when every slot has a master this view does not consider failed. */
export function fullyServed(view: readonly ClusterNodeView[]): boolean {
  const failed = new Set(view.filter((node) => node.flags.has('fail') || node.flags.has('fail?')).map((node) => node.address));
  return slotOwners(view).every((owner) => owner !== '' && !failed.has(owner));
}
