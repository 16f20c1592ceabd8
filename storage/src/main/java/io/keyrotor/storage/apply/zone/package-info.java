/**
 * The handlers of zone master key rotation, a resumable job carried by the log (start, rewrap
 * batches, retirement of an old version), and the query of which KEKs still need rewrapping.
 */
package io.keyrotor.storage.apply.zone;
