/**
 * Test fixtures this module shares through its test-jar: waiting on a test cluster's Raft members,
 * and a test group's certificate authority for mutual TLS on the Raft port.
 */
package io.keyrotor.consensus.testing;
