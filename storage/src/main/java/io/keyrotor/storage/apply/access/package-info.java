/**
 * Apply of the authorisation commands (setting the policy, the bootstrap policy, recorded denials)
 * and the apply-time re-check of every command that carries a principal ({@link
 * io.keyrotor.storage.apply.access.ApplyAuthorization}).
 */
package io.keyrotor.storage.apply.access;
