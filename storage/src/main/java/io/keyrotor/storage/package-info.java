/**
 * The replicated state of keyrotor: its model, the deterministic transition from a command to its
 * effects, and its persistence in RocksDB (one WriteBatch per command, holding the state change,
 * the applied position and the audit record), coordinated by {@link
 * io.keyrotor.storage.KeyStateStore} over the pieces in the sub-packages. Knows nothing of Raft,
 * gRPC, clocks or HSMs.
 */
package io.keyrotor.storage;
