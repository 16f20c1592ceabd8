/**
 * The audit trail offline: checking an exported chain against trusted audit public keys, with no
 * node and no network ({@link io.keyrotor.client.audit.AuditTrailVerifier}), and the PEM file of
 * those keys ({@link io.keyrotor.client.audit.AuditKeysPem}).
 */
package io.keyrotor.client.audit;
