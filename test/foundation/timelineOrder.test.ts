import { byTime } from '../../src/operations/invoices';
import type { TimelineEvent } from '../../workflows/invoiceTypes';

// The invoice timeline records entries as arsync learns them; a view read by the portal watcher a few seconds later
// carries the portal's own (earlier) viewed time. Operators read it in the order things happened.
describe('invoice timeline order', () => {
  it('sorts by when each thing happened, keeping the recorded order for the same instant', () => {
    const recorded: TimelineEvent[] = [
      { at: '2026-11-28T08:34:10.000Z', kind: 'synced' },
      { at: '2026-11-28T08:34:11.000Z', kind: 'link_sent', channel: 'email' },
      { at: '2026-11-28T08:34:11.000Z', kind: 'link_sent', channel: 'sms' },
      { at: '2026-11-28T08:34:22.000Z', kind: 'payment_made', amountMinor: 5000 },
      { at: '2026-11-28T08:34:19.000Z', kind: 'viewed', detail: 'viewed at 2026-11-28 08:34:19' },
    ];
    expect(byTime(recorded).map((e) => [e.kind, e.channel ?? ''])).toEqual([
      ['synced', ''],
      ['link_sent', 'email'],
      ['link_sent', 'sms'],
      ['viewed', ''],
      ['payment_made', ''],
    ]);
  });
});
