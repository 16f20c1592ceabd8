/**
 * The HSM boundary: wrap and unwrap key-encryption keys under zone master keys that never leave the
 * HSM, random bytes and capability discovery. Knows nothing of Raft, RocksDB or gRPC.
 */
package io.keyrotor.hsm;
