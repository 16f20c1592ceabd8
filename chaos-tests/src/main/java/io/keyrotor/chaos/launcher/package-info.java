/**
 * Starting and faulting real keyrotor node processes: the {@link
 * io.keyrotor.chaos.launcher.NodeLauncher} interface and its network-namespace implementation.
 */
package io.keyrotor.chaos.launcher;
