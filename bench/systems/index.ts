import type { SystemName } from '../lib/variants.js';
import { rawUws } from './raw-uws.js';
import { sigcast, sigcastCluster } from './sigcast.js';
import { socketio } from './socketio.js';
import { soketi } from './soketi.js';
import type { SystemDef } from './types.js';
import { wsIoredis } from './ws-ioredis.js';

export const SYSTEM_DEFS: Record<SystemName, SystemDef> = {
  sigcast,
  'sigcast-cluster': sigcastCluster,
  'raw-uws': rawUws,
  'ws-ioredis': wsIoredis,
  socketio,
  soketi,
};
