/**
 * Apache Ratis glue: the state machine over the storage module, node bootstrap, snapshots from
 * RocksDB checkpoints, the linearizable read barrier and command proposal. The only user of Ratis.
 */
package io.keyrotor.consensus;
