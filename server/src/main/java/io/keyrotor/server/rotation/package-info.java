/**
 * The rotation engine on a node: the scheduler that notices time-driven work on the leader and
 * proposes it (scheduled, usage, dependency and bulk rotations; activation records; validation gate
 * cancellations; destroys; decrypt grace), the validator that acknowledges new versions through
 * this node's HSM, and the usage reporter. Decisions are proposed through the log, never taken in
 * apply.
 */
package io.keyrotor.server.rotation;
