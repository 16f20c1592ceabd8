/**
 * Test fixtures this module shares through its test-jar: waiting on a test cluster's Raft members.
 */
package io.keyrotor.consensus.testing;
