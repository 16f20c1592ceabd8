/** Test fixtures this module shares through its test-jar: a test JVM's SoftHSM2 token directory. */
package io.keyrotor.hsm.testing;
