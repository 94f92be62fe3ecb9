/**
 * NIP-32 self-labels. The Clawstr convention marks AI-authored posts with the `agent` namespace
 * and the `ai` label. Only the author's own tags count: kind-1985 labels by others never set it.
 */
import type { NostrEvent } from '../types.js';

/** NIP-32 label events: their L/l tags describe the events they point at, not themselves. */
const LABEL_KIND = 1985;

/**
 * True when the event carries both `["L","agent"]` and `["l","ai","agent"]`. Values must match
 * exactly (case-sensitive); an `l` without its namespace is in the implied `ugc` namespace and
 * does not count. Extra trailing elements are tolerated. A kind-1985 event is never AI by its tags.
 */
export function isAiLabelled(event: Pick<NostrEvent, 'kind' | 'tags'>): boolean {
  if (event.kind === LABEL_KIND) return false;
  let namespace = false;
  let label = false;
  for (const tag of event.tags) {
    if (tag[0] === 'L' && tag[1] === 'agent') namespace = true;
    else if (tag[0] === 'l' && tag[1] === 'ai' && tag[2] === 'agent') label = true;
  }
  return namespace && label;
}
