/**
 * Tier T1, in-process: the real state machine and RocksDB store in Ratis's {@code
 * MiniRaftClusterWithGrpc}, driven by the same workloads, history format and checkers as the
 * namespace tier; the one package of chaos-tests allowed to import consensus, storage and Ratis.
 */
package io.keyrotor.chaos.inprocess;
