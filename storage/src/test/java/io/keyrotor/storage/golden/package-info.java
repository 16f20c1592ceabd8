/**
 * The golden log: a checked-in command log with the state digest and audit chain head expected at
 * chosen indexes, its deterministic generator, and the test that replays it.
 */
package io.keyrotor.storage.golden;
