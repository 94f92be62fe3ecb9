import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/nostr/normalize/nip01-profile.js';
import { corpusEvent, corpusOfKind } from '../fixtures/corpus.js';
import { world } from '../fixtures/hand-built.js';

const ALL_NULL = {
  name: null,
  display_name: null,
  about: null,
  picture: null,
  banner: null,
  website: null,
  nip05: null,
  lud16: null,
  lud06: null,
  bot: null,
};

describe('parseProfile on real kind-0 events', () => {
  it('parses every corpus profile as a valid object', () => {
    const profiles = corpusOfKind(0);
    expect(profiles.length).toBeGreaterThan(700);
    for (const e of profiles) expect(parseProfile(e.content).content_valid).toBe(true);
  });
  it('reads name/about/picture of a real profile', () => {
    const p = parseProfile(corpusEvent('e527fe8b0f64a38c6877f943a9e8841074056ba72aceb31a4c85e6d10b27095a').content);
    expect(p).toEqual({
      ...ALL_NULL,
      name: 'ottman@minds.io',
      about: '',
      picture: 'https://feat-2311-nostr.minds.io/icon/1002952989368913934/medium/1564498626/1564498626/1653379539',
      content_valid: true,
    });
  });
  it('two real versions of one profile keep their own fields (jb, then jb55)', () => {
    expect(parseProfile(corpusEvent('1550ff0e62ef2b3872375cb522dd7c31137b395cc82ab70f7184369a88a2ff57').content).name).toBe('jb');
    expect(parseProfile(corpusEvent('bbc63aa1c5931fa77c89bba4c806a720454dd0e101143b3a446f28383661f1c6').content).name).toBe('jb55');
  });
  it('display_name wins over legacy displayName when both are set', () => {
    // Real profile with displayName "Ren Amamiya" and display_name "reya".
    const e = corpusOfKind(0).find((x) => x.id.startsWith('1a3cd48d8c'));
    expect(e).toBeDefined();
    expect(parseProfile(e?.content ?? '').display_name).toBe('reya');
  });
});

describe('parseProfile rules', () => {
  it('legacy displayName is used when display_name is absent', () => {
    const p = parseProfile(world.profiles.agent.content);
    expect(p.display_name).toBe('Claw Bot');
    expect(p.name).toBe('clawbot');
    expect(p.lud16).toBe('clawbot@example.com');
  });
  it('legacy displayName is used when display_name is not a string', () => {
    expect(parseProfile(JSON.stringify({ display_name: 5, displayName: 'Legacy' })).display_name).toBe('Legacy');
  });
  it('all ten fields are read', () => {
    const content = JSON.stringify({
      name: 'n',
      display_name: 'dn',
      about: 'a',
      picture: 'p',
      banner: 'b',
      website: 'w',
      nip05: 'n@x',
      lud16: 'l@x',
      lud06: 'lnurl1',
      bot: false,
    });
    expect(parseProfile(content)).toEqual({
      name: 'n',
      display_name: 'dn',
      about: 'a',
      picture: 'p',
      banner: 'b',
      website: 'w',
      nip05: 'n@x',
      lud16: 'l@x',
      lud06: 'lnurl1',
      bot: false,
      content_valid: true,
    });
  });
  it('non-string values become null (strings only, no coercion)', () => {
    const p = parseProfile(JSON.stringify({ name: 42, about: null, picture: ['x'], nip05: { a: 1 }, website: true }));
    expect(p).toEqual({ ...ALL_NULL, content_valid: true });
  });
  it('bot is boolean only: "true" and 1 are null', () => {
    expect(parseProfile('{"bot":true}').bot).toBe(true);
    expect(parseProfile('{"bot":false}').bot).toBe(false);
    expect(parseProfile('{"bot":"true"}').bot).toBeNull();
    expect(parseProfile('{"bot":1}').bot).toBeNull();
  });
  it('empty strings are kept as given', () => {
    expect(parseProfile('{"name":""}').name).toBe('');
  });
  it('unknown keys are ignored, a valid empty object is valid', () => {
    expect(parseProfile('{"foo":"bar"}')).toEqual({ ...ALL_NULL, content_valid: true });
    expect(parseProfile('{}')).toEqual({ ...ALL_NULL, content_valid: true });
  });
  it.each(['{name: stranger', '', 'null', '[]', '["name"]', '"name"', '42', 'true'])(
    'invalid JSON or a non-object (%j): all null, content_valid false',
    (content) => {
      expect(parseProfile(content)).toEqual({ ...ALL_NULL, content_valid: false });
    },
  );
  it('hand-built invalid profile', () => {
    expect(parseProfile(world.profiles.invalidJson.content).content_valid).toBe(false);
  });
  it('a __proto__ key does not leak into fields', () => {
    expect(parseProfile('{"__proto__":{"name":"evil"}}').name).toBeNull();
  });
});
