import { createEventStoreDBEventStore } from '../../src/eventStore/eventStoreDB/eventStoreDBEventStore.js';
import { describeEventStoreContract } from '../../src/testing/eventStoreContract.js';

const connectionString = process.env.EVENTSTORE_URL;

if (connectionString) {
  describeEventStoreContract({
    name: 'eventstoredb',
    create: async () => createEventStoreDBEventStore({ connectionString }),
  });
} else {
  const notice = 'EventStoreDB contract suite SKIPPED: EVENTSTORE_URL is not set (set it to run against a server)';
  console.log(`\n  *** ${notice} ***\n`);
  describe('event store contract: eventstoredb', () => {
    it(notice, function () {
      this.skip();
    });
  });
}
