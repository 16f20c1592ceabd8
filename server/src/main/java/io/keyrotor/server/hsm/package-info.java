/**
 * The node's side of its HSM: the zone master key rotation driver, the HSM health probe and the
 * KEK-minting executor ({@code HsmTasks}), and the ceremony commands ({@code keyrotor-server hsm
 * ...}, run by {@code scripts/hsm}).
 */
package io.keyrotor.server.hsm;
