/**
 * Rolling upgrades: the cluster's active apply version, carried in the Raft log, and the apply
 * behaviours ({@link io.keyrotor.storage.version.ApplyFeature}) it switches on.
 */
package io.keyrotor.storage.version;
