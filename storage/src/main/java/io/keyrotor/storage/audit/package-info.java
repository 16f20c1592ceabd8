/**
 * The tamper-evident audit chain: one hashed record per applied command, linked to the previous.
 */
package io.keyrotor.storage.audit;
