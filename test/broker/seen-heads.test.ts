import { describe, expect, test } from 'vitest';
import { SeenHeads } from '../../src/broker/seen-heads.js';

describe('SeenHeads: telling a rewound history from a reordered reply', () => {
  test('a history shorter than what was seen before the read was sent is rewound', () => {
    const seen = new SeenHeads();
    seen.track('C');
    expect(seen.sawAnnouncement('C', 'E', 1, 10)).toBe('ok');
    const sent = seen.floor('C');
    expect(sent).toEqual({ epoch: 'E', seq: 10 });
    expect(seen.sawHistory('C', sent, 'E', 7)).toBe('rewound');
    expect(seen.sawHistory('C', sent, 'E', 10)).toBe('ok');
    // Another epoch (expired, flushed) is not a rewind: it is adopted.
    expect(seen.sawHistory('C', seen.floor('C'), 'F', 2)).toBe('ok');
    expect(seen.floor('C')).toEqual({ epoch: 'F', seq: 2 });
  });

  test('what arrived after the read was sent does not count against it', () => {
    const seen = new SeenHeads();
    seen.track('C');
    seen.sawAnnouncement('C', 'E', 1, 5);
    const sent = seen.floor('C');
    // Announcements 6..8 overtook the read's reply on the subscriber connection.
    seen.sawAnnouncement('C', 'E', 6, 8);
    expect(seen.sawHistory('C', sent, 'E', 5)).toBe('ok');
    expect(seen.floor('C')).toEqual({ epoch: 'E', seq: 8 });
  });

  test('an announcement repeating an announced seq is a rewind; acks and reads alone never make one', () => {
    const seen = new SeenHeads();
    seen.track('C');
    seen.sawAppend('C', seen.floor('C'), 'E', 12);
    seen.sawHistory('C', seen.floor('C'), 'E', 12);
    // The announcement of what this node appended arrives after its ack: not a repeat.
    expect(seen.sawAnnouncement('C', 'E', 11, 12)).toBe('ok');
    expect(seen.sawAnnouncement('C', 'E', 13, 13)).toBe('ok');
    expect(seen.sawAnnouncement('C', 'E', 13, 14)).toBe('rewound');
    expect(seen.sawAnnouncement('C', 'F', 13, 13)).toBe('ok');
  });

  test('a reply from before a newer epoch was seen does not take the head back', () => {
    const seen = new SeenHeads();
    seen.track('C');
    seen.sawAnnouncement('C', 'E', 1, 3);
    const sent = seen.floor('C');
    seen.sawAnnouncement('C', 'F', 1, 1);
    seen.sawAppend('C', sent, 'E', 4);
    expect(seen.floor('C')).toEqual({ epoch: 'F', seq: 1 });
  });

  test('untracked channels are not judged', () => {
    const seen = new SeenHeads();
    expect(seen.floor('X')).toBeUndefined();
    expect(seen.sawHistory('X', undefined, 'E', 0)).toBe('ok');
    expect(seen.sawAnnouncement('X', 'E', 1, 1)).toBe('ok');
    seen.track('X');
    seen.untrack('X');
    expect(seen.floor('X')).toBeUndefined();
  });

  test('what was handed to the listener is remembered per epoch', () => {
    const seen = new SeenHeads();
    seen.track('C');
    seen.sawAnnouncement('C', 'E', 1, 4);
    seen.handed('C', 'E', 4);
    expect(seen.handedUpTo('C', 'E')).toBe(4);
    expect(seen.handedUpTo('C', 'F')).toBe(0);
    seen.handed('C', 'F', 9);
    expect(seen.handedUpTo('C', 'F')).toBe(0);
    seen.sawAnnouncement('C', 'F', 1, 1);
    expect(seen.handedUpTo('C', 'F')).toBe(0);
  });
});
