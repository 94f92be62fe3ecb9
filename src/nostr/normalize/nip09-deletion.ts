/**
 * NIP-09 deletion requests (kind 5). Only the targets are read here; whether a target is the
 * deleter's own (the only case that applies) is checked by the store against the stored event.
 */
import type { DeletionFields, NostrEvent } from '../types.js';
import { isAddress, isHex64, tagValues, unique } from './tags.js';

/** `e` ids and `a` coordinates, shape-checked and deduped, in tag order. */
export function parseDeletion(event: Pick<NostrEvent, 'tags'>): DeletionFields {
  return {
    event_ids: unique(tagValues(event.tags, 'e').filter(isHex64)),
    addresses: unique(tagValues(event.tags, 'a').filter(isAddress)),
  };
}
