import { MemoryBroker } from '../../src/broker/memory-broker.js';
import { describeBrokerContract } from './broker.case.js';

describeBrokerContract('MemoryBroker', async (options) => {
  const broker = new MemoryBroker(options);
  return { broker, teardown: () => broker.close() };
});
