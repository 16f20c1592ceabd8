/**
 * The node's side of the signed audit trail: its audit key in the HSM, registering it through the
 * log, and signing checkpoints of the chain's head (on the leader, before proposing them).
 */
package io.keyrotor.server.audit;
