/**
 * Consistent copies of the state store for snapshots: writing a checkpoint and restoring from one.
 */
package io.keyrotor.storage.checkpoint;
