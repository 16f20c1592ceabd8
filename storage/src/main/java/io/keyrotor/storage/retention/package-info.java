/**
 * Retention: staging the removals of a history trim (old audit records, events and bulk rotation
 * jobs) in the write batch of the TrimHistory entry, and forgetting them once it is written.
 */
package io.keyrotor.storage.retention;
