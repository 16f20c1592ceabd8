/**
 * Checkers that decide, from a recorded history, whether the cluster kept its promises: a general
 * linearizability checker (WGL with per-key partitioning) and cheaper exact checkers for the
 * workloads W1-W6, with a summary of the run.
 */
package io.keyrotor.chaos.checker;
