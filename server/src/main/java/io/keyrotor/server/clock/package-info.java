/**
 * Clock safety: each node measures its wall clock against its peers' (NTP-style, over
 * AdminService.GetNodeStatus with its node certificate), and a leader whose clock disagrees with a
 * majority stamps no command and hands leadership over, so one host's clock jump cannot move the
 * cluster's time (and destroy or activate versions early). See the server README, "Clock safety".
 */
package io.keyrotor.server.clock;
