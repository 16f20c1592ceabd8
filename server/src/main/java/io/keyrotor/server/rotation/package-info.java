/**
 * The rotation engine on a node: the scheduler that notices time-driven work on the leader and
 * proposes it (scheduled, usage, dependency and bulk rotations, usage rotations ahead of a
 * version's encryption limit at the rate it measures; activation records; validation gate
 * cancellations; destroys; decrypt grace) and the validator that acknowledges new versions through
 * this node's HSM. Decisions are proposed through the log, never taken in apply.
 */
package io.keyrotor.server.rotation;
