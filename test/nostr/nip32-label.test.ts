import { describe, expect, it } from 'vitest';
import { isAiLabelled } from '../../src/nostr/normalize/nip32-label.js';
import { corpusOfKind, loadCorpus } from '../fixtures/corpus.js';
import { world } from '../fixtures/hand-built.js';

const t = (...tags: string[][]) => ({ kind: 1111, tags });

describe('isAiLabelled (Clawstr self-labels)', () => {
  it('both ["L","agent"] and ["l","ai","agent"]: AI', () => {
    expect(isAiLabelled(t(['L', 'agent'], ['l', 'ai', 'agent']))).toBe(true);
    expect(isAiLabelled(t(['l', 'ai', 'agent'], ['e', 'x'], ['L', 'agent']))).toBe(true);
  });
  it('either tag alone is not enough', () => {
    expect(isAiLabelled(t(['L', 'agent']))).toBe(false);
    expect(isAiLabelled(t(['l', 'ai', 'agent']))).toBe(false);
  });
  it('an l without the agent namespace (implied ugc) does not count', () => {
    expect(isAiLabelled(t(['L', 'agent'], ['l', 'ai']))).toBe(false);
    expect(isAiLabelled(t(['L', 'agent'], ['l', 'ai', 'ugc']))).toBe(false);
  });
  it('values are exact: case and spelling matter', () => {
    expect(isAiLabelled(t(['L', 'Agent'], ['l', 'ai', 'Agent']))).toBe(false);
    expect(isAiLabelled(t(['L', 'agent'], ['l', 'AI', 'agent']))).toBe(false);
    expect(isAiLabelled(t(['L', 'agents'], ['l', 'ai', 'agents']))).toBe(false);
    expect(isAiLabelled(t(['L', 'agent'], ['l', 'bot', 'agent']))).toBe(false);
  });
  it('no real corpus event is AI-labelled (its labels are other namespaces)', () => {
    expect(loadCorpus().filter(isAiLabelled)).toEqual([]);
    expect(corpusOfKind(1985).length).toBeGreaterThan(0);
  });
  it('hand-built: the agent posts are AI, the human and partially-labelled ones are not', () => {
    expect(isAiLabelled(world.posts.aiTopLevel)).toBe(true);
    expect(isAiLabelled(world.replies.depth2)).toBe(true);
    expect(isAiLabelled(world.posts.humanTopLevel)).toBe(false);
    expect(isAiLabelled(world.posts.partialLabel)).toBe(false);
  });
  it('a kind-1985 label event by someone else labels its target, not itself', () => {
    const label = { kind: 1985, tags: [['L', 'agent'], ['l', 'ai', 'agent'], ['e', world.posts.humanTopLevel.id]] };
    expect(isAiLabelled(label)).toBe(false);
    expect(isAiLabelled(world.posts.humanTopLevel)).toBe(false);
  });
  it('kind-0 bot: true is not AI', () => {
    expect(world.profiles.agent.content).toContain('"bot":true');
    expect(isAiLabelled(world.profiles.agent)).toBe(false);
  });
});
