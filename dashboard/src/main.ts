// The dashboard page: wires the controls, the feed (the project's client on this server's
// /v1/ws), the table and the panels, and publishes its own counters on window.__sigcast.
// Query parameters: ?channels=BTCUSDT,ETHUSDT&last=100&rows=500&conflate=100
import type { PageCounters } from './counters.js';
import { Feed, type ConflationState, type ConnectionState } from './feed.js';
import { Problems, renderChannels, renderConflation, renderConnection, renderStats } from './panels.js';
import { ChannelStats } from './stats.js';
import { SignalTable } from './table.js';

declare global {
  interface Window {
    __sigcast: PageCounters;
  }
}

const RECENT_KEY = 'sigcast.dashboard.channels';
const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const bounded = (value: string | null, min: number, max: number, fallback: number) => {
  const number = Number(value ?? fallback);
  return Number.isInteger(number) ? Math.min(max, Math.max(min, number)) : fallback;
};

const replayInput = element<HTMLInputElement>('replay');
const conflateSelect = element<HTMLSelectElement>('conflate');
const channelInput = element<HTMLInputElement>('channel-input');
replayInput.value = String(bounded(params.get('last'), 0, 1000, 100));

const stats = new ChannelStats(Date.now());
const problems = new Problems(element('problems'));
const statsBody = element<HTMLTableElement>('channel-stats').tBodies[0]!;
let connection: ConnectionState = { status: 'connecting', reconnects: 0 };
let conflation: ConflationState = { requestedMs: 0 };

const table = new SignalTable(element<HTMLTableElement>('signals').tBodies[0]!, bounded(params.get('rows'), 10, 5000, 500), () => publishCounters());
const counters = {} as PageCounters;
window.__sigcast = counters;
function publishCounters(): void {
  Object.assign(counters, {
    received: table.received,
    rendered: table.rendered,
    dropped: table.dropped,
    backlog: table.backlogSize,
    maxBacklog: table.maxBacklog,
    rows: table.rows,
    frames: table.frames.summary(),
    connection,
    conflation,
    channels: stats.snapshots(),
    problems: problems.messages,
  });
}

const socketUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/ws`;
const feed = new Feed(
  socketUrl,
  {
    entry: (entry, live) => {
      stats.record(entry.channel, entry.seq, entry.signal.ts, live, Date.now(), entry.replaced);
      table.push({ entry, live });
    },
    connection: (state) => {
      connection = state;
      renderConnection(element('connection'), element('connection-detail'), state);
    },
    problem: (message) => problems.add(message),
    channels: (channels) => {
      renderChannels(element('channel-chips'), channels, (channel) => watch(feed.channels.filter((watched) => watched !== channel)));
      remember(channels);
    },
    conflation: (state) => {
      conflation = state;
      renderConflation(element('conflate-status'), state);
    },
  },
  Number(replayInput.value),
);

function watch(channels: readonly string[]): void {
  for (const channel of feed.channels) if (!channels.includes(channel)) stats.forget(channel);
  feed.watch([...new Set(channels)]);
}

function parseChannels(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** Channels used lately, offered as suggestions in the channel field. */
function remember(channels: readonly string[]): void {
  const recent = [...new Set([...channels, ...recall()])].slice(0, 20);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
  } catch {
    // Storage may be disabled (private mode): suggestions are a convenience.
  }
  element('known-channels').replaceChildren(...recent.map((channel) => Object.assign(document.createElement('option'), { value: channel })));
}

function recall(): string[] {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(stored) ? stored.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

element<HTMLFormElement>('channels-form').addEventListener('submit', (event) => {
  event.preventDefault();
  watch([...feed.channels, ...parseChannels(channelInput.value)]);
  channelInput.value = '';
});
element<HTMLButtonElement>('clear-rows').addEventListener('click', () => table.clear());
element<HTMLButtonElement>('clear-problems').addEventListener('click', () => problems.clear());
replayInput.addEventListener('change', () => feed.setReplay(bounded(replayInput.value, 0, 1000, 100)));
conflateSelect.addEventListener('change', () => feed.setConflation(Number(conflateSelect.value)));
element<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  feed.setToken(element<HTMLInputElement>('token').value.trim());
});

setInterval(() => {
  if (stats.tick(Date.now())) renderStats(statsBody, stats.snapshots());
  publishCounters();
}, 250);

const fromQuery = parseChannels(params.get('channels') ?? '');
const recent = recall();
watch(fromQuery.length ? fromQuery : recent.length ? recent.slice(0, 3) : ['BTCUSDT']);
const initialConflate = params.get('conflate');
if (initialConflate && [...conflateSelect.options].some((option) => option.value === initialConflate)) {
  conflateSelect.value = initialConflate;
  feed.setConflation(Number(initialConflate));
}
renderConflation(element('conflate-status'), conflation);
publishCounters();
