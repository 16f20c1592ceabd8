/**
 * Authorisation, deterministic: the replicated policy compiled for evaluation ({@link
 * io.keyrotor.storage.access.AccessPolicy}), its validation, the bootstrap policy, and the
 * permission each command needs at apply. Used by apply (the re-check of every principal-carrying
 * write against the policy at its log index) and by the server (the check of every RPC), so both
 * decide with the same code. Reads no clock and no random source.
 */
package io.keyrotor.storage.access;
