/**
 * Deterministic generator of realistic, validly signed Clawstr-style Nostr events for benchmarks.
 *
 * One seed always yields the same stream (same ids, content and signatures): every choice comes from
 * a seeded PRNG, keys are derived from the seed, and signatures use BIP-340 with all-zero auxiliary
 * randomness. Events are streamed, and only bounded windows of recent posts, comments and reactions
 * are kept as reply/reaction targets, so 1M events never sit in memory at once.
 *
 * CLI: npx tsx bench/generate-events.ts --count 100000 --seed 1 --out bench/.data/events-100k.jsonl
 *      [--subclaws 200] [--now 1750000000] [--workers N (signing threads; 0 = sign inline)]
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as ecc from 'tiny-secp256k1';
import type { NostrEvent } from '../src/nostr/types.js';

// ---------------------------------------------------------------------------------------------
// Tunables. The mix is a share of the non-profile actions; profiles come on top (see below).
// ---------------------------------------------------------------------------------------------

/** Default "now": every created_at is strictly before it. */
export const DEFAULT_NOW = 1_750_000_000;
export const DEFAULT_SUBCLAWS = 200;
/** History spans this many seconds before `now`. */
export const TIME_SPAN_SECONDS = 60 * 86_400;
/** One author per this many events (~2,000 authors for 100k events), at least MIN_AUTHORS. */
export const EVENTS_PER_AUTHOR = 50;
export const MIN_AUTHORS = 20;
/** Relative weights of the actions (need not sum to 1). */
export const MIX = {
  post: 0.12,
  reply: 0.28,
  reaction: 0.5,
  zap: 0.07,
  deletion: 0.006,
} as const;
/** Share of authors that publish a second kind-0 version later. */
export const SECOND_PROFILE_RATE = 0.15;
/** Share of authors who are AI agents, and share of posts/replies written by them. */
export const AI_AUTHOR_RATE = 0.5;
export const AI_POST_SHARE = 0.5;
/** Maximum reply depth below a top-level post. */
export const MAX_DEPTH = 5;
/** Zipf exponents for subclaw popularity and author activity. */
export const SUBCLAW_ZIPF_S = 1.0;
export const AUTHOR_ZIPF_S = 0.9;
/** Share of reactions that are a second vote by the same reactor on the same target. */
export const DOUBLE_VOTE_RATE = 0.06;
/** Reaction content: `+`, `-`, else an emoji. */
export const REACTION_UP = 0.78;
export const REACTION_DOWN = 0.1;
/** Share of events reusing the previous event's created_at exactly. */
export const EQUAL_TIMESTAMP_RATE = 0.04;
/** Number of fixed LNURL-server keys signing zap receipts. */
export const LNURL_SERVERS = 3;
/** Share of replies that answer a top-level post directly (the rest answer a comment). */
export const REPLY_TO_POST = 0.45;
/** Share of reactions and zaps aimed at top-level posts (the rest at comments). */
export const TARGET_POST = 0.45;
/** Bounded windows of recent targets (memory stays flat whatever the count). */
export const RECENT_POSTS = 4_000;
export const RECENT_COMMENTS = 12_000;
export const RECENT_REACTIONS = 4_000;
export const SUBCLAW_BASE = 'https://clawstr.com/c/';
export const ZAP_RELAYS = ['wss://relay.clawstr.com', 'wss://relay.damus.io', 'wss://nos.lol'];

export interface GenerateOptions {
  count: number;
  seed: number;
  subclaws?: number;
  now?: number;
}

// ---------------------------------------------------------------------------------------------
// Seeded PRNG: sfc32 seeded through splitmix32.
// ---------------------------------------------------------------------------------------------

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  hex(bytes: number): string {
    let out = '';
    for (let i = 0; i < bytes; i += 4) out += this.u32().toString(16).padStart(8, '0');
    return out.slice(0, bytes * 2);
  }
}

/** Cumulative Zipf weights over ranks 0..n-1; sample with `pickZipf`. */
function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / Math.pow(r + 1, s);
    cdf[r] = total;
  }
  for (let r = 0; r < n; r++) cdf[r] = (cdf[r] as number) / total;
  return cdf;
}

function pickZipf(cdf: Float64Array, prng: Prng): number {
  const u = prng.next();
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cdf[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// BIP-340 signing. tiny-secp256k1's signSchnorr recomputes the public key on every call (two
// scalar multiplications); here the key-dependent parts are precomputed once per key, so each
// signature costs one scalar multiplication (the nonce point) plus hashes and BigInt arithmetic.
// The result is byte-identical to signSchnorr(msg, priv, 32 zero bytes).
// ---------------------------------------------------------------------------------------------

const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function tagPrefix(tag: string): Buffer {
  const h = createHash('sha256').update(tag, 'utf8').digest();
  return Buffer.concat([h, h]);
}

const AUX_PREFIX = tagPrefix('BIP0340/aux');
const NONCE_PREFIX = tagPrefix('BIP0340/nonce');
const CHALLENGE_PREFIX = tagPrefix('BIP0340/challenge');
const ZERO_AUX_HASH = createHash('sha256').update(AUX_PREFIX).update(Buffer.alloc(32)).digest();

function toBig(bytes: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'));
}

function to32(n: bigint): Buffer {
  return Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
}

export interface SigningKey {
  /** Secret key as given (32 bytes). */
  secret: Uint8Array;
  /** x-only public key, hex. */
  pubkey: string;
  pub: Buffer;
  /** Secret scalar negated when the public point has odd y (BIP-340 `d`). */
  d: bigint;
  /** bytes(d) xor hash_aux(zeros): the first input of the BIP-340 nonce hash. */
  t: Buffer;
}

export function signingKey(secret: Uint8Array): SigningKey {
  if (!ecc.isPrivate(secret)) throw new Error('invalid secret key');
  const point = ecc.pointFromScalar(secret, true);
  if (!point) throw new Error('invalid secret key');
  const pub = Buffer.from(point.subarray(1));
  let d = toBig(secret);
  if (point[0] === 3) d = CURVE_N - d;
  const dBytes = to32(d);
  const t = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) t[i] = (dBytes[i] as number) ^ (ZERO_AUX_HASH[i] as number);
  return { secret, pubkey: pub.toString('hex'), pub, d, t };
}

/** BIP-340 signature of a 32-byte message with zero auxiliary randomness, as 128 hex chars. */
export function schnorrSign(msg: Uint8Array, key: SigningKey): string {
  const rand = createHash('sha256').update(NONCE_PREFIX).update(key.t).update(key.pub).update(msg).digest();
  let k = toBig(rand) % CURVE_N;
  if (k === 0n) throw new Error('nonce is zero');
  const r = ecc.pointFromScalar(to32(k), true);
  if (!r) throw new Error('nonce point at infinity');
  if (r[0] === 3) k = CURVE_N - k;
  const rx = r.subarray(1);
  const e = toBig(createHash('sha256').update(CHALLENGE_PREFIX).update(rx).update(key.pub).update(msg).digest()) % CURVE_N;
  const s = (k + e * key.d) % CURVE_N;
  return Buffer.from(rx).toString('hex') + s.toString(16).padStart(64, '0');
}

/** An event with its id computed but not yet signed (`event.sig` is ''). */
export interface Draft {
  event: NostrEvent;
  idBytes: Buffer;
  key: SigningKey;
}

/** Builds and hashes an event (NIP-01 serialisation; JSON.stringify escapes exactly as NIP-01 asks). */
export function draft(key: SigningKey, created_at: number, kind: number, tags: string[][], content: string): Draft {
  const idBytes = createHash('sha256')
    .update(JSON.stringify([0, key.pubkey, created_at, kind, tags, content]), 'utf8')
    .digest();
  const event: NostrEvent = { id: idBytes.toString('hex'), pubkey: key.pubkey, created_at, kind, tags, content, sig: '' };
  return { event, idBytes, key };
}

/** Builds, hashes and signs an event. */
export function finalize(key: SigningKey, created_at: number, kind: number, tags: string[][], content: string): NostrEvent {
  const d = draft(key, created_at, kind, tags, content);
  d.event.sig = schnorrSign(d.idBytes, key);
  return d.event;
}

function deriveKey(seed: number, label: string): SigningKey {
  let secret = createHash('sha256').update(`nostr-cache-bench:${seed}:${label}`).digest();
  while (!ecc.isPrivate(secret)) secret = createHash('sha256').update(secret).digest();
  return signingKey(new Uint8Array(secret));
}

/** Public keys of the fixed LNURL servers that sign the zap receipts of a given seed. */
export function lnurlServerPubkeys(seed: number): string[] {
  return Array.from({ length: LNURL_SERVERS }, (_, i) => deriveKey(seed, `lnurl:${i}`).pubkey);
}

/** Number of authors for a given event count. */
export function authorCount(count: number): number {
  return Math.max(MIN_AUTHORS, Math.round(count / EVENTS_PER_AUTHOR));
}

// ---------------------------------------------------------------------------------------------
// Text material.
// ---------------------------------------------------------------------------------------------

const SUBCLAW_NAMES = [
  'ai', 'agents', 'programming', 'nostr', 'bitcoin', 'lightning', 'typescript', 'rust', 'llm',
  'askclaw', 'showcase', 'philosophy', 'science', 'math', 'music', 'art', 'gaming', 'news', 'memes',
  'robotics', 'security', 'linux', 'selfhosted', 'books', 'writing', 'cooking', 'fitness', 'space',
  'climate', 'economics', 'history', 'design', 'startups', 'privacy', 'opensource', 'datascience',
  'ml-research', 'prompt_engineering', 'clawstr-meta', 'introductions', 'til', 'devops', 'databases',
  'webdev', 'mobile', 'hardware', 'photography', 'travel', 'language-learning', 'chess',
];
const NAME_PARTS_A = [
  'deep', 'open', 'tiny', 'quantum', 'retro', 'daily', 'local', 'indie', 'async', 'lazy', 'cosmic',
  'rusty', 'neural', 'vector', 'silent', 'urban', 'wild', 'slow', 'hyper', 'meta',
];
const NAME_PARTS_B = [
  'models', 'gardens', 'compilers', 'relays', 'robots', 'poems', 'puzzles', 'maps', 'kernels',
  'recipes', 'synths', 'proofs', 'bugs', 'tools', 'agents', 'dreams', 'papers', 'markets', 'games',
  'stories',
];
const HUMAN_NAMES = [
  'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory',
  'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yuki', 'zoë', 'ana',
  'bruno', 'chen', 'dmitri', 'elif', 'farah', 'goran', 'hana', 'ines', 'jonas', 'kofi', 'lena',
];
const AGENT_PREFIXES = ['claw', 'nova', 'quill', 'atlas', 'echo', 'orbit', 'sage', 'pixel', 'ember', 'lumen'];
const AGENT_SUFFIXES = ['bot', 'agent', 'mind', 'scout', 'smith', 'runner', 'weaver', 'watcher'];
const OPENERS = [
  'I have been thinking about', 'Hot take on', 'Quick question about', 'Today I learned something about',
  'Can someone explain', 'A short write-up on', 'Ran an experiment with', 'Unpopular opinion about',
  'Notes from a long night with', 'Has anyone benchmarked', 'Reminder that', 'Why does nobody talk about',
];
const SUBJECTS = [
  'context windows', 'relay outages', 'vector search', 'zap splits', 'prompt caching', 'Postgres indexes',
  'tool calling', 'event signatures', 'self-hosted models', 'rate limits', 'memory leaks', 'backpressure',
  'sourdough starters', 'chess openings', 'orbital mechanics', 'the halting problem', 'keyboard layouts',
  'agent swarms', 'moderation queues', 'lightning channels', 'WASM runtimes', 'type inference',
];
const PREDICATES = [
  'turns out to be much simpler than the docs suggest', 'keeps surprising me', 'is underrated',
  'breaks in interesting ways under load', 'deserves a proper benchmark', 'is mostly a naming problem',
  'works fine until it does not', 'needs better defaults', 'is where the real cost hides',
  'changed how I structure my projects', 'is harder to test than it looks',
];
const REPLY_LINES = [
  'Agreed, and the numbers back it up.', 'I see it differently.', 'Do you have a source for that?',
  'This matches what I saw last week.', 'Great write-up, thanks!', 'Counterpoint: it depends on the workload.',
  'Could you share the config?', 'Ha, same here.', 'Not sure this holds at scale.', 'Bookmarking this.',
  'The second point is the important one.', 'Tried it, works for me.', 'Which version were you on?',
  'Strong disagree, but upvoted for the effort.', 'This is the way.', 'Following.',
];
const EXTRAS = [
  '\n\nhttps://example.com/notes', ' 🦞', ' 🤖', ' ⚡', '\n\n#clawstr', ' (edited: typo)', ' — "quoted" for emphasis',
  ' ¯\\_(ツ)_/¯', '\n\n1. first\n2. second', ' Ça marche.', ' 👀', ' naïve approach\tworked',
];
const EMOJIS = ['🔥', '❤️', '🤖', '😂', '👀', '🦞', '⚡', '🙏', '🤔', '💯'];
const DELETION_REASONS = ['', '', '', 'posted in the wrong subclaw', 'duplicate', 'mistake'];
const ZAP_COMMENTS = ['', '', '', 'Great post!', 'Thanks for sharing ⚡', 'zap zap', 'Keep building 🦞'];
const ZAP_SATS = [21, 21, 42, 69, 100, 100, 210, 420, 500, 1_000, 1_000, 2_100, 5_000, 10_000, 21_000, 100_000, 1_000_000];
const BECH32_CHARS = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function subclawNames(n: number, prng: Prng): string[] {
  const names = SUBCLAW_NAMES.slice(0, n);
  const seen = new Set(names);
  while (names.length < n) {
    let name = `${prng.pick(NAME_PARTS_A)}-${prng.pick(NAME_PARTS_B)}`;
    if (seen.has(name)) name = `${name}${prng.range(2, 999)}`;
    if (seen.has(name)) continue;
    seen.add(name);
    names.push(name);
  }
  return names;
}

function sentence(prng: Prng): string {
  return `${prng.pick(OPENERS)} ${prng.pick(SUBJECTS)}: it ${prng.pick(PREDICATES)}.`;
}

function postContent(prng: Prng, agent: boolean): string {
  const parts: string[] = [];
  const n = prng.range(1, 5);
  for (let i = 0; i < n; i++) parts.push(sentence(prng));
  let text = parts.join(prng.chance(0.3) ? '\n\n' : ' ');
  if (agent && prng.chance(0.3)) text = `[automated summary] ${text}`;
  if (prng.chance(0.35)) text += prng.pick(EXTRAS);
  return text;
}

function replyContent(prng: Prng): string {
  let text = prng.pick(REPLY_LINES);
  if (prng.chance(0.5)) text += ` ${sentence(prng)}`;
  if (prng.chance(0.25)) text += prng.pick(EXTRAS);
  return text;
}

/** bolt11 amount part (digits + multiplier) for an amount in millisatoshis. */
export function bolt11AmountPart(msat: number, prng: Prng): string {
  // msat per unit: m 1e8, u 1e5, n 100, p 0.1; use the largest unit giving an integer, sometimes a smaller one.
  const units: Array<[string, number]> = [['m', 1e8], ['u', 1e5], ['n', 100]];
  const usable = units.filter(([, per]) => msat % per === 0);
  if (usable.length === 0) return `${msat * 10}p`;
  const [mult, per] = (usable.length > 1 && prng.chance(0.15) ? usable[usable.length - 1] : usable[0]) as [string, number];
  return `${msat / per}${mult}`;
}

function fakeInvoice(msat: number, prng: Prng): string {
  let data = '';
  const len = prng.range(240, 320);
  for (let i = 0; i < len; i++) data += BECH32_CHARS[prng.int(32)];
  return `lnbc${bolt11AmountPart(msat, prng)}1${data}`;
}

// ---------------------------------------------------------------------------------------------
// Generator state.
// ---------------------------------------------------------------------------------------------

interface Author {
  key: SigningKey;
  agent: boolean;
  name: string;
  profiles: number;
  /** created_at of the latest kind 0, so a second version is strictly newer. */
  profileTs: number;
}

/** A post or comment that later events may reply to, react to, zap or delete. */
interface Target {
  id: string;
  author: number;
  created_at: number;
  depth: number;
  subclaw: number;
  kind: number;
}

interface ReactionRecord {
  id: string;
  author: number;
  created_at: number;
  target: Target;
  content: string;
}

class Ring<T> {
  private items: T[] = [];
  private head = 0;
  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** The i-th newest item (0 = newest). */
  newest(i: number): T {
    const n = this.items.length;
    const newestIdx = this.items.length < this.capacity ? n - 1 : (this.head - 1 + n) % n;
    return this.items[(newestIdx - i + n * 2) % n] as T;
  }

  /** A random item biased towards recent ones. */
  recent(prng: Prng): T | undefined {
    if (this.items.length === 0) return undefined;
    const u = prng.next();
    return this.newest(Math.floor(u * u * this.items.length));
  }
}

/**
 * Streams `count` signed events. Synchronous generator (also usable with `for await`); signs on the
 * calling thread. `generateEventsParallel` yields the same events, signed in worker threads.
 */
export function* generateEvents(opts: GenerateOptions): Generator<NostrEvent, void, undefined> {
  for (const d of generateDrafts(opts)) {
    d.event.sig = schnorrSign(d.idBytes, d.key);
    yield d.event;
  }
}

/**
 * The event stream before signing: every id is final (ids never depend on signatures, except the
 * zap requests embedded in receipts, which are signed here).
 */
export function* generateDrafts(opts: GenerateOptions): Generator<Draft, void, undefined> {
  const { count, seed } = opts;
  const now = opts.now ?? DEFAULT_NOW;
  const subclawTotal = opts.subclaws ?? DEFAULT_SUBCLAWS;
  if (!Number.isInteger(count) || count < 0) throw new Error('count must be a non-negative integer');
  if (!Number.isInteger(subclawTotal) || subclawTotal < 1) throw new Error('subclaws must be a positive integer');
  const prng = new Prng(seed);

  const subclaws = subclawNames(subclawTotal, prng).map((name) => SUBCLAW_BASE + name);
  const subclawCdf = zipfCdf(subclaws.length, SUBCLAW_ZIPF_S);

  const nAuthors = authorCount(count);
  const authors: Author[] = [];
  const agentIdx: number[] = [];
  const humanIdx: number[] = [];
  for (let i = 0; i < nAuthors; i++) {
    const agent = prng.chance(AI_AUTHOR_RATE);
    const name = agent
      ? `${prng.pick(AGENT_PREFIXES)}-${prng.pick(AGENT_SUFFIXES)}${prng.int(1000)}`
      : `${prng.pick(HUMAN_NAMES)}${prng.chance(0.6) ? prng.int(100) : ''}`;
    authors.push({ key: deriveKey(seed, `author:${i}`), agent, name, profiles: 0, profileTs: 0 });
    (agent ? agentIdx : humanIdx).push(i);
  }
  // Guarantee both groups exist.
  if (agentIdx.length === 0) {
    const moved = humanIdx.pop() as number;
    (authors[moved] as Author).agent = true;
    agentIdx.push(moved);
  }
  if (humanIdx.length === 0) {
    const moved = agentIdx.pop() as number;
    (authors[moved] as Author).agent = false;
    humanIdx.push(moved);
  }
  const authorCdf = zipfCdf(nAuthors, AUTHOR_ZIPF_S);
  const agentCdf = zipfCdf(agentIdx.length, AUTHOR_ZIPF_S);
  const humanCdf = zipfCdf(humanIdx.length, AUTHOR_ZIPF_S);
  const servers = Array.from({ length: LNURL_SERVERS }, (_, i) => deriveKey(seed, `lnurl:${i}`));

  const posts = new Ring<Target>(RECENT_POSTS);
  const comments = new Ring<Target>(RECENT_COMMENTS);
  const reactions = new Ring<ReactionRecord>(RECENT_REACTIONS);
  const deleted = new Set<string>();

  // Profiles: each author's first kind 0 precedes their first other event; a profile slot in the
  // mix also reaches authors who never act and publishes second versions.
  const profileWeight = (nAuthors * (1 + SECOND_PROFILE_RATE)) / Math.max(count, 1);
  const weights = [profileWeight, MIX.post, MIX.reply, MIX.reaction, MIX.zap, MIX.deletion];
  const weightTotal = weights.reduce((a, b) => a + b, 0);
  let secondBudget = Math.round(nAuthors * SECOND_PROFILE_RATE);
  let nextUnprofiled = 0;

  const step = TIME_SPAN_SECONDS / Math.max(count, 1);
  const jitter = Math.max(3, step * 2);
  const start = now - TIME_SPAN_SECONDS;
  let timeIndex = 0;
  let lastTs = start;

  /** created_at for the next event: roughly monotonic, never before `min`, always before `now`. */
  const nextTime = (min: number): number => {
    let ts: number;
    if (timeIndex > 0 && prng.chance(EQUAL_TIMESTAMP_RATE)) ts = lastTs;
    else ts = Math.round(start + timeIndex * step + (prng.next() * 2 - 1) * jitter);
    timeIndex++;
    ts = Math.min(Math.max(ts, min), now - 1);
    lastTs = ts;
    return ts;
  };

  // Two events identical in every field would share an id (e.g. the same reaction twice in the
  // same second). They can only collide with equal created_at, hence within a short window, so a
  // small set of recent ids is enough: a collision is re-drafted one second later (or earlier).
  const recentIds = new Set<string>();
  const recentOrder: string[] = [];
  let recentHead = 0;
  const RECENT_IDS = 1024;
  const mk = (key: SigningKey, created_at: number, kind: number, tags: string[][], content: string): Draft => {
    let ts = created_at;
    let d = draft(key, ts, kind, tags, content);
    while (recentIds.has(d.event.id)) {
      ts = ts + 1 < now ? ts + 1 : ts - 1;
      d = draft(key, ts, kind, tags, content);
    }
    if (recentOrder.length < RECENT_IDS) recentOrder.push(d.event.id);
    else {
      recentIds.delete(recentOrder[recentHead] as string);
      recentOrder[recentHead] = d.event.id;
      recentHead = (recentHead + 1) % RECENT_IDS;
    }
    recentIds.add(d.event.id);
    return d;
  };

  const profileEvent = (idx: number): Draft => {
    const a = authors[idx] as Author;
    const version = a.profiles;
    a.profiles++;
    const meta: Record<string, unknown> = {
      name: a.name,
      display_name: a.agent ? a.name.replace(/-/g, ' ').toUpperCase() : a.name.charAt(0).toUpperCase() + a.name.slice(1),
      about: a.agent
        ? `Autonomous agent. Interests: ${prng.pick(SUBJECTS)}, ${prng.pick(SUBJECTS)}.${version > 0 ? ' (v2)' : ''}`
        : `Human. I post about ${prng.pick(SUBJECTS)}.${version > 0 ? ' Updated bio!' : ''}`,
      picture: `https://robohash.org/${a.key.pubkey.slice(0, 12)}${version > 0 ? '-v2' : ''}.png`,
    };
    if (prng.chance(0.5)) meta.lud16 = `${a.name.replace(/[^a-z0-9]/g, '')}@getalby.com`;
    if (prng.chance(0.3)) meta.nip05 = `${a.name.replace(/[^a-z0-9_-]/g, '')}@clawstr.com`;
    if (prng.chance(0.2)) meta.website = `https://${a.name.replace(/[^a-z0-9]/g, '')}.example.org`;
    if (a.agent && prng.chance(0.6)) meta.bot = true;
    const d = mk(a.key, nextTime(version > 0 ? a.profileTs + 1 : start), 0, [], JSON.stringify(meta));
    a.profileTs = d.event.created_at;
    return d;
  };

  const agentLabels = (a: Author, tags: string[][]): string[][] => {
    if (a.agent) tags.push(['L', 'agent'], ['l', 'ai', 'agent']);
    return tags;
  };

  const pickWriter = (): number =>
    prng.chance(AI_POST_SHARE) ? (agentIdx[pickZipf(agentCdf, prng)] as number) : (humanIdx[pickZipf(humanCdf, prng)] as number);
  const pickAnyAuthor = (): number => pickZipf(authorCdf, prng);

  /** Runs one action; returns the events it produced in order (a lazy profile, then the event). */
  const act = (): Draft[] => {
    const out: Draft[] = [];
    const ensureProfile = (idx: number): void => {
      if ((authors[idx] as Author).profiles === 0) out.push(profileEvent(idx));
    };

    let r = prng.next() * weightTotal;
    let action = 0;
    while (action < weights.length - 1 && r >= (weights[action] as number)) {
      r -= weights[action] as number;
      action++;
    }

    if (action === 0) {
      while (nextUnprofiled < nAuthors && (authors[nextUnprofiled] as Author).profiles > 0) nextUnprofiled++;
      if (nextUnprofiled < nAuthors) {
        out.push(profileEvent(nextUnprofiled));
        return out;
      }
      if (secondBudget > 0) {
        const idx = pickAnyAuthor();
        if ((authors[idx] as Author).profiles === 1) {
          secondBudget--;
          out.push(profileEvent(idx));
          return out;
        }
      }
      action = 1;
    }
    if (action === 5) {
      // Deletion of one's own recent post, comment or reaction.
      let target: { id: string; author: number; created_at: number; kind: number } | undefined;
      if (prng.chance(0.6)) target = prng.chance(0.3) ? posts.recent(prng) : comments.recent(prng);
      else {
        const rec = reactions.recent(prng);
        if (rec) target = { id: rec.id, author: rec.author, created_at: rec.created_at, kind: 7 };
      }
      if (!target || deleted.has(target.id)) action = 3;
      else {
        deleted.add(target.id);
        const a = authors[target.author] as Author;
        out.push(
          mk(a.key, nextTime(target.created_at), 5, [['e', target.id], ['k', String(target.kind)]], prng.pick(DELETION_REASONS)),
        );
        return out;
      }
    }
    if ((action === 2 || action === 3 || action === 4) && posts.size === 0) action = 1;

    if (action === 1) {
      const idx = pickWriter();
      const a = authors[idx] as Author;
      ensureProfile(idx);
      const sub = pickZipf(subclawCdf, prng);
      const url = subclaws[sub] as string;
      const tags = agentLabels(a, [['I', url], ['K', 'web'], ['i', url], ['k', 'web']]);
      const d = mk(a.key, nextTime(start), 1111, tags, postContent(prng, a.agent));
      posts.push({ id: d.event.id, author: idx, created_at: d.event.created_at, depth: 0, subclaw: sub, kind: 1111 });
      out.push(d);
      return out;
    }

    const pickTarget = (postShare: number): Target => {
      const fromPosts = comments.size === 0 || prng.chance(postShare);
      return (fromPosts ? posts.recent(prng) : comments.recent(prng)) as Target;
    };

    if (action === 2) {
      let parent = pickTarget(REPLY_TO_POST);
      if (parent.depth >= MAX_DEPTH) parent = posts.recent(prng) as Target;
      const idx = pickWriter();
      const a = authors[idx] as Author;
      ensureProfile(idx);
      const parentAuthor = (authors[parent.author] as Author).key.pubkey;
      const url = subclaws[parent.subclaw] as string;
      const tags = agentLabels(a, [
        ['I', url],
        ['K', 'web'],
        ['e', parent.id, '', parentAuthor],
        ['k', '1111'],
        ['p', parentAuthor],
      ]);
      const d = mk(a.key, nextTime(parent.created_at), 1111, tags, replyContent(prng));
      comments.push({
        id: d.event.id,
        author: idx,
        created_at: d.event.created_at,
        depth: parent.depth + 1,
        subclaw: parent.subclaw,
        kind: 1111,
      });
      out.push(d);
      return out;
    }

    if (action === 3) {
      let idx: number;
      let target: Target;
      let content: string;
      const again = reactions.size > 0 && prng.chance(DOUBLE_VOTE_RATE) ? reactions.recent(prng) : undefined;
      let min: number;
      if (again) {
        // The same reactor votes again on the same target (usually changing their mind).
        idx = again.author;
        target = again.target;
        content = again.content === '+' ? (prng.chance(0.7) ? '-' : '+') : '+';
        min = again.created_at + 1;
      } else {
        idx = pickAnyAuthor();
        target = pickTarget(TARGET_POST);
        const u = prng.next();
        content = u < REACTION_UP ? '+' : u < REACTION_UP + REACTION_DOWN ? '-' : prng.pick(EMOJIS);
        min = target.created_at;
      }
      const a = authors[idx] as Author;
      ensureProfile(idx);
      const targetAuthor = (authors[target.author] as Author).key.pubkey;
      const d = mk(a.key, nextTime(min), 7, [['e', target.id], ['p', targetAuthor], ['k', '1111']], content);
      reactions.push({ id: d.event.id, author: idx, created_at: d.event.created_at, target, content });
      out.push(d);
      return out;
    }

    // action === 4: zap receipt with its embedded, signed kind-9734 request.
    const target = pickTarget(TARGET_POST);
    const senderIdx = pickAnyAuthor();
    const sender = authors[senderIdx] as Author;
    ensureProfile(senderIdx);
    const recipient = (authors[target.author] as Author).key.pubkey;
    const msat = (ZAP_SATS[prng.int(ZAP_SATS.length)] as number) * 1000;
    const receiptTs = nextTime(target.created_at);
    const requestTs = Math.max(target.created_at, receiptTs - prng.range(1, 20));
    const request = finalize(
      sender.key,
      requestTs,
      9734,
      [['relays', ...ZAP_RELAYS], ['amount', String(msat)], ['p', recipient], ['e', target.id]],
      prng.pick(ZAP_COMMENTS),
    );
    const server = servers[prng.chance(0.6) ? 0 : prng.int(LNURL_SERVERS)] as SigningKey;
    const receipt = mk(
      server,
      receiptTs,
      9735,
      [
        ['p', recipient],
        ['e', target.id],
        ['P', sender.key.pubkey],
        ['bolt11', fakeInvoice(msat, prng)],
        ['description', JSON.stringify(request)],
        ['preimage', prng.hex(32)],
      ],
      '',
    );
    out.push(receipt);
    return out;
  };

  let emitted = 0;
  while (emitted < count) {
    for (const d of act()) {
      yield d;
      emitted++;
      if (emitted >= count) return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parallel signing: this same module runs as the worker (see the bottom of the file).
// ---------------------------------------------------------------------------------------------

const WORKER_ROLE = 'nostr-cache-bench-signer';
const SIGN_BATCH = 1_000;

interface SignRequest {
  batch: number;
  /** n ids of 32 bytes each. */
  ids: Uint8Array;
  /** The n matching secret keys, 32 bytes each. */
  secrets: Uint8Array;
}
interface SignResponse {
  batch: number;
  /** n × 128 hex chars. */
  sigs: string;
}

function runSignerWorker(): void {
  const port = parentPort;
  if (!port) return;
  const keys = new Map<string, SigningKey>();
  port.on('message', (req: SignRequest) => {
    const n = req.ids.length / 32;
    let sigs = '';
    for (let i = 0; i < n; i++) {
      const secret = req.secrets.subarray(i * 32, i * 32 + 32);
      const hex = Buffer.from(secret).toString('hex');
      let key = keys.get(hex);
      if (!key) {
        key = signingKey(new Uint8Array(secret));
        keys.set(hex, key);
      }
      sigs += schnorrSign(req.ids.subarray(i * 32, i * 32 + 32), key);
    }
    const res: SignResponse = { batch: req.batch, sigs };
    port.postMessage(res);
  });
}

/**
 * Starts this module as a signing worker. When it runs as TypeScript under tsx, the worker first
 * registers tsx's loader (Node 20 does not carry `--import` hooks into worker threads).
 */
function startSignerWorker(): Worker {
  const self = import.meta.url;
  const data = { workerData: { role: WORKER_ROLE } };
  if (!self.endsWith('.ts')) return new Worker(new URL(self), data);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(self)}); });`;
  return new Worker(boot, { ...data, eval: true });
}

/**
 * Same events as `generateEvents`, in the same order, signed by `workers` worker threads
 * (default: available parallelism) while this thread builds the next batches.
 */
export async function* generateEventsParallel(
  opts: GenerateOptions & { workers?: number },
): AsyncGenerator<NostrEvent, void, undefined> {
  const nWorkers = Math.max(1, opts.workers ?? availableParallelism());
  const workers = Array.from({ length: nWorkers }, () => startSignerWorker());
  const pending = new Map<number, { resolve: (sigs: string) => void; reject: (err: unknown) => void }>();
  for (const w of workers) {
    w.on('message', (res: SignResponse) => {
      const p = pending.get(res.batch);
      pending.delete(res.batch);
      p?.resolve(res.sigs);
    });
    const fail = (err: unknown): void => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (pending.size > 0) fail(new Error(`signing worker exited with code ${code}`));
    });
  }
  const inFlight: Array<{ events: NostrEvent[]; sigs: Promise<string> }> = [];
  let batchNo = 0;
  const submit = (drafts: Draft[]): void => {
    const n = drafts.length;
    const ids = new Uint8Array(n * 32);
    const secrets = new Uint8Array(n * 32);
    for (let i = 0; i < n; i++) {
      const d = drafts[i] as Draft;
      ids.set(d.idBytes, i * 32);
      secrets.set(d.key.secret, i * 32);
    }
    const batch = batchNo++;
    const sigs = new Promise<string>((resolve, reject) => pending.set(batch, { resolve, reject }));
    sigs.catch(() => {}); // awaited in order by drain(); batches left behind after a failure must not crash the process
    const req: SignRequest = { batch, ids, secrets };
    (workers[batch % nWorkers] as Worker).postMessage(req, [ids.buffer, secrets.buffer]);
    inFlight.push({ events: drafts.map((d) => d.event), sigs });
  };
  try {
    let drafts: Draft[] = [];
    for (const d of generateDrafts(opts)) {
      drafts.push(d);
      if (drafts.length === SIGN_BATCH) {
        submit(drafts);
        drafts = [];
        // Keep a couple of batches per worker queued; yield the oldest once it is signed.
        while (inFlight.length >= nWorkers * 3) yield* drain(inFlight.shift() as { events: NostrEvent[]; sigs: Promise<string> });
      }
    }
    if (drafts.length > 0) submit(drafts);
    while (inFlight.length > 0) yield* drain(inFlight.shift() as { events: NostrEvent[]; sigs: Promise<string> });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function* drain(batch: { events: NostrEvent[]; sigs: Promise<string> }): AsyncGenerator<NostrEvent, void, undefined> {
  const sigs = await batch.sigs;
  for (let i = 0; i < batch.events.length; i++) {
    const ev = batch.events[i] as NostrEvent;
    ev.sig = sigs.slice(i * 128, i * 128 + 128);
    yield ev;
  }
}

// ---------------------------------------------------------------------------------------------
// File output and CLI.
// ---------------------------------------------------------------------------------------------

export interface WriteResult {
  events: number;
  bytes: number;
  seconds: number;
  eventsPerSecond: number;
  /** CPU time of the whole process, worker threads included (user + system). */
  cpuSeconds: number;
}

/** Writes the stream as JSON lines (to a temp file, renamed when complete). */
export async function writeEventsFile(
  opts: GenerateOptions & {
    out: string;
    /** Signing worker threads; 0 signs on this thread. Default: available parallelism. */
    workers?: number;
    progress?: (done: number, total: number, seconds: number) => void;
  },
): Promise<WriteResult> {
  await mkdir(dirname(resolve(opts.out)), { recursive: true });
  const tmp = `${opts.out}.tmp-${process.pid}`;
  const stream = createWriteStream(tmp);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let events = 0;
  let bytes = 0;
  let chunk = '';
  let lastReport = t0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    bytes += Buffer.byteLength(chunk);
    const ok = stream.write(chunk);
    chunk = '';
    if (!ok) await once(stream, 'drain');
  };
  const writeAll = async (source: Iterable<NostrEvent> | AsyncIterable<NostrEvent>): Promise<void> => {
    for await (const ev of source) {
      chunk += JSON.stringify(ev) + '\n';
      events++;
      if (events % 1000 === 0) {
        await flush();
        const t = performance.now();
        if (opts.progress && t - lastReport >= 2000) {
          lastReport = t;
          opts.progress(events, opts.count, (t - t0) / 1000);
        }
      }
    }
    await flush();
    stream.end();
    await once(stream, 'finish');
  };
  try {
    await writeAll(opts.workers === 0 ? generateEvents(opts) : generateEventsParallel(opts));
  } catch (err) {
    stream.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, opts.out);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { events, bytes, seconds, eventsPerSecond: events / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function parseArgs(argv: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const v = argv[i + 1];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      args[a.slice(2)] = v;
      i++;
    }
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const num = (name: string, def?: number): number => {
    const raw = args[name];
    if (raw === undefined) {
      if (def === undefined) throw new Error(`--${name} is required`);
      return def;
    }
    const v = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(v)) throw new Error(`--${name} must be a number`);
    return v;
  };
  const count = num('count');
  const seed = num('seed', 1);
  const out = args.out ?? `bench/.data/events-${count}-s${seed}.jsonl`;
  const workers = num('workers', availableParallelism());
  const opts: GenerateOptions = { count, seed, subclaws: num('subclaws', DEFAULT_SUBCLAWS), now: num('now', DEFAULT_NOW) };
  process.stderr.write(
    `generating ${count} events (seed ${seed}, ${authorCount(count)} authors, ${opts.subclaws} subclaws, ${workers} signing workers) -> ${out}\n`,
  );
  const res = await writeEventsFile({
    ...opts,
    out,
    workers,
    progress: (done, total, s) =>
      process.stderr.write(`  ${done}/${total} (${((done / total) * 100).toFixed(1)}%) ${Math.round(done / s)} events/s\n`),
  });
  process.stderr.write(
    `done: ${res.events} events, ${(res.bytes / 1e6).toFixed(1)} MB in ${res.seconds.toFixed(1)} s = ${Math.round(res.eventsPerSecond)} events/s (${res.cpuSeconds.toFixed(1)} s CPU)\n`,
  );
}

const entry = process.argv[1];
if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) {
  runSignerWorker();
} else if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
