{
  "targets": [
    {
      "target_name": "nostr_secp256k1",
      "sources": ["secp256k1_verify.c"],
      "libraries": ["-lsecp256k1"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
