// What a subscriber is sent when it joins a channel's feed, decided in one step from the feed's
// position (pure): `subscribed`, a `reset` when its own position cannot be honoured, which seqs of
// the ring are its replay, and the `live` marker that follows them.
import { encodeFrame } from '../protocol/codec.js';
import type { Encoding, WireFrame } from '../protocol/encoding.js';
import type { LiveFrame, ResetFrame, SubscribedFrame, SubscribeFrame } from '../protocol/frames.js';
import { planReplay } from './merge.js';

export interface FeedPosition {
  readonly epoch: string;
  readonly firstSeq: number;
  readonly headSeq: number;
}

export interface JoinFrames {
  /** `subscribed`, then the position's `reset` if there is one. */
  head: WireFrame[];
  /** Why the position was reset, for counting. */
  resetReason: ResetFrame['reason'] | undefined;
  replay: { fromSeq: number; count: number };
  live: { frame: WireFrame; seq: number; epoch: string };
}

export function joinFrames(request: SubscribeFrame, feed: FeedPosition, encoding: Encoding, maxReplay: number): JoinFrames {
  const plan = planReplay(request, feed.epoch, feed.firstSeq, feed.headSeq, maxReplay);
  const subscribed: SubscribedFrame = {
    type: 'subscribed',
    ...(request.id !== undefined ? { id: request.id } : {}),
    channel: request.channel,
    epoch: feed.epoch,
    headSeq: feed.headSeq,
    replay: plan.count,
  };
  const head = [encodeFrame(subscribed, encoding)];
  if (plan.reset) {
    const reset: ResetFrame = {
      type: 'reset',
      channel: request.channel,
      reason: plan.reset.reason,
      epoch: feed.epoch,
      fromSeq: plan.reset.fromSeq,
      requested: { since: request.since ?? 0, ...(request.epoch !== undefined ? { epoch: request.epoch } : {}) },
    };
    head.push(encodeFrame(reset, encoding));
  }
  const live: LiveFrame = { type: 'live', channel: request.channel, epoch: feed.epoch, seq: feed.headSeq };
  return {
    head,
    resetReason: plan.reset?.reason,
    replay: { fromSeq: feed.headSeq - plan.count + 1, count: plan.count },
    live: { frame: encodeFrame(live, encoding), seq: live.seq, epoch: live.epoch },
  };
}
