import type { BenchClient } from '../clients/adapter.js';
import { createClient } from '../clients/index.js';
import type { FromWorker, JobSetup, ToWorker } from './ipc.js';
import { PublisherGroup } from './publisher.js';
import { SubscriberGroup } from './subscribers.js';

/**
 * A load worker process (forked by the bench, reused across jobs). It hosts the subscribers and/or
 * publishers of one job at a time and is driven over IPC: setup -> go -> finish. It exits when the
 * parent says so or disappears, so it never outlives the bench.
 */
let subs: SubscriberGroup | undefined;
let pubs: PublisherGroup | undefined;
let pubClients: BenchClient[] = [];
let progressTimer: NodeJS.Timeout | undefined;

function send(message: FromWorker): void {
  process.send?.(message);
}

async function setup(job: JobSetup): Promise<void> {
  if (job.subs) {
    subs = new SubscriberGroup(job.system, job.client, job.subs);
    if (!job.subs.connectOnGo) await subs.connectAll();
  }
  if (job.pubs) {
    const spec = job.pubs;
    pubClients = spec.publishers.map(() => createClient(job.system, { ...job.client, publisherOnly: true }, { onEntry: () => {} }));
    await Promise.all(pubClients.map((client) => client.connect()));
    pubs = new PublisherGroup(spec, pubClients);
  }
  const report = subs ? await subs.finishSetup() : { connected: 0, failed: 0, errors: [] };
  send({ t: 'ready', ...report });
}

async function go(): Promise<void> {
  if (subs) {
    const group = subs;
    // Subscribers tell the parent how far the slowest one is, for the publishers' lag bound.
    progressTimer = setInterval(() => send({ t: 'progress', minLast: group.minLast(), deliveries: group.delivered }), 25);
    await group.go();
  }
  if (pubs) {
    const report = await pubs.run();
    await Promise.all(pubClients.map((client) => client.close().catch(() => {})));
    pubClients = [];
    pubs = undefined;
    send({ t: 'published', report });
  }
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.t) {
    case 'setup':
      await setup(message.job);
      break;
    case 'go':
      await go();
      break;
    case 'allow':
      pubs?.allow(message.upTo);
      break;
    case 'finish': {
      clearInterval(progressTimer);
      pubs?.stop();
      if (subs) {
        const report = await subs.finish(message.expected, message.drainMs);
        subs = undefined;
        send({ t: 'report', report });
      }
      break;
    }
    case 'exit':
      process.exit(0);
  }
}

process.on('message', (message: ToWorker) => {
  handle(message).catch((error: unknown) => {
    send({ t: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
process.on('disconnect', () => process.exit(0));
