import type { SystemName } from '../lib/variants.js';
import type { BenchClient, ClientEvents, ClientOptions } from './adapter.js';
import { pusherClient } from './pusher-client.js';
import { rawUwsClient } from './raw-uws-client.js';
import { sigcastClient } from './sigcast-client.js';
import { socketIoClient } from './socketio-client.js';
import { wsIoredisClient } from './ws-ioredis-client.js';

/** The adapter of each system; the load generator only sees BenchClient. */
export function createClient(system: SystemName, options: ClientOptions, events: ClientEvents): BenchClient {
  switch (system) {
    case 'sigcast':
    case 'sigcast-cluster':
      return sigcastClient(options, events);
    case 'raw-uws':
      return rawUwsClient(options, events);
    case 'ws-ioredis':
      return wsIoredisClient(options, events);
    case 'socketio':
      return socketIoClient(options, events);
    case 'soketi':
      return pusherClient(options, events);
  }
}
