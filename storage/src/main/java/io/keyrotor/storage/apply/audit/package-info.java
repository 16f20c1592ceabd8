/**
 * The handlers of the audit trail's own commands: audit key registrations and signed checkpoints.
 * They check shape only; signatures are checked by whoever verifies the chain.
 */
package io.keyrotor.storage.apply.audit;
