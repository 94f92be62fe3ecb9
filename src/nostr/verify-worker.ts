/**
 * worker_threads entry of VerifyPool: receives chunks of flattened events and answers with one
 * result code (index into VERIFY_RESULTS) per event. No state besides the verifier.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initVerifier, verifierBackend, verifySerialized, VERIFY_RESULTS } from './verify.js';
import type { VerifyBackendChoice, VerifyBackendName } from './verify.js';

/** Marks a thread started by VerifyPool, so importing this file anywhere else does nothing. */
export const VERIFY_WORKER_ROLE = 'nostr-cache:verify';

/** Main -> worker: `data` holds [id, pubkey, sig, id preimage] per event, flattened. */
export interface VerifyChunkMessage {
  seq: number;
  data: string[];
}

/** Worker -> main. `ready` is sent once, after the verifier has loaded, naming its backend. */
export type VerifyWorkerMessage =
  | { type: 'ready'; backend: VerifyBackendName }
  | { type: 'done'; seq: number; codes: Uint8Array };

interface VerifyWorkerData {
  role?: unknown;
  backend?: VerifyBackendChoice;
}

const port = parentPort;
const data = workerData as VerifyWorkerData | null;
if (port !== null && data?.role === VERIFY_WORKER_ROLE) {
  const ready = initVerifier(data.backend ?? 'auto');
  const codeOf = new Map(VERIFY_RESULTS.map((r, i) => [r, i]));

  // Listening at once is safe: chunks that arrive while the verifier loads wait on `ready`.
  port.on('message', (msg: VerifyChunkMessage) => {
    void ready.then(() => {
      const n = msg.data.length / 4;
      const codes = new Uint8Array(n);
      for (let i = 0, j = 0; i < n; i++, j += 4) {
        codes[i] = codeOf.get(verifySerialized(msg.data[j]!, msg.data[j + 1]!, msg.data[j + 2]!, msg.data[j + 3]!))!;
      }
      port.postMessage({ type: 'done', seq: msg.seq, codes } satisfies VerifyWorkerMessage, [codes.buffer]);
    }, () => undefined /* handled below */);
  });

  // A verifier that cannot load rejects here unhandled, which ends the worker with that error as
  // the pool's start-failure message.
  void ready.then(() => port.postMessage({ type: 'ready', backend: verifierBackend()! } satisfies VerifyWorkerMessage));
}
