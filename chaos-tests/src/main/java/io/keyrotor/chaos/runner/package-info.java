/**
 * A chaos run from start to verdict: cluster up, workloads and nemesis, the final heal and reads,
 * the checkers, the artifacts under {@code target/chaos/<run>/} and the printed summary; plus the
 * command-line entry point behind {@code scripts/chaos}.
 */
package io.keyrotor.chaos.runner;
