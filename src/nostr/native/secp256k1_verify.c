/*
 * BIP-340 Schnorr verification through the system's libsecp256k1 (Debian: libsecp256k1-dev), as a
 * Node-API addon. Optional: verify.ts uses it when it loads and falls back to the WASM build of the
 * same library (tiny-secp256k1) when it does not. Native code verifies ~5x faster than the WASM on
 * x86-64 (bench/verify.ts), and verification is most of the ingest CPU.
 *
 * One export: verifySchnorr(hash32, xonlyPubkey32, sig64) -> boolean. Wrong argument types or
 * lengths throw a TypeError; a pubkey that is not on the curve is simply "not valid".
 */
#include <node_api.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Per Node environment (main thread and every worker get their own). */
typedef struct {
  secp256k1_context *ctx;
} addon_state;

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  addon_state *state = (addon_state *)data;
  if (state != NULL) {
    secp256k1_context_destroy(state->ctx);
    free(state);
  }
}

/* Reads a Buffer/Uint8Array argument of exactly `want` bytes, or throws and returns NULL. */
static const uint8_t *bytes_arg(napi_env env, napi_value value, size_t want, const char *name) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, NULL, name);
    return NULL;
  }
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || length != want) {
    napi_throw_type_error(env, NULL, name);
    return NULL;
  }
  return (const uint8_t *)data;
}

static napi_value verify_schnorr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) return NULL;
  if (argc != 3) {
    napi_throw_type_error(env, NULL, "verifySchnorr(hash, pubkey, sig) takes three arguments");
    return NULL;
  }
  const uint8_t *hash = bytes_arg(env, argv[0], 32, "hash must be 32 bytes");
  if (hash == NULL) return NULL;
  const uint8_t *pubkey = bytes_arg(env, argv[1], 32, "pubkey must be 32 bytes (x-only)");
  if (pubkey == NULL) return NULL;
  const uint8_t *sig = bytes_arg(env, argv[2], 64, "sig must be 64 bytes");
  if (sig == NULL) return NULL;

  addon_state *state = (addon_state *)data;
  secp256k1_xonly_pubkey parsed;
  int ok = secp256k1_xonly_pubkey_parse(state->ctx, &parsed, pubkey) &&
           secp256k1_schnorrsig_verify(state->ctx, sig, hash, 32, &parsed);
  napi_value result;
  napi_get_boolean(env, ok == 1, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  addon_state *state = (addon_state *)malloc(sizeof(addon_state));
  if (state == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  state->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (state->ctx == NULL || napi_set_instance_data(env, state, free_state, NULL) != napi_ok) {
    free_state(env, state, NULL);
    napi_throw_error(env, NULL, "could not create a secp256k1 context");
    return NULL;
  }
  napi_value fn;
  if (napi_create_function(env, "verifySchnorr", NAPI_AUTO_LENGTH, verify_schnorr, state, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "verifySchnorr", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
