/**
 * The data plane: envelope encryption under replicated keys (data keys, encrypt, decrypt,
 * re-encrypt), served from the applied state after a linearizable read barrier, with the ciphertext
 * format, AES-GCM and the cache of unwrapped key-encryption keys.
 */
package io.keyrotor.server.dataplane;
